#!/usr/bin/env bash
# PDQ hashing speed: imgcls (Sources/Imaging/PDQ.swift, release build) against the reference, PyPI's pdqhash
# (ThreatExchange's C++ through Cython, in a venv), on the same pictures decoded once beforehand (the hash alone is
# timed: luminance, downsample, DCT, the eight orientations and the quality; both sides compute all eight), best of
# ROUNDS (3). One thread each, then two: imgcls on two threads of one process, pdqhash in two processes (its call
# holds Python's lock, so threads would not help it). Pictures: COUNT (60) web-sized JPEGs (imgcls-dev jpeg-corpus;
# cut from the photos in PHOTOS when given). Both sides' hashes are the same bit for bit (scripts/pdq-reference.sh).
source "$(dirname "$0")/bench-lib.sh"
bench_build imgcls-dev
bench_venv pdq pdqhash pillow numpy
corpus=bench-data/pdq-corpus
rm -rf "$corpus"
"$bin/imgcls-dev" jpeg-corpus "$corpus" --count "${COUNT:-60}" --sizes web ${PHOTOS:+--from "$PHOTOS"} >/dev/null
files=("$corpus"/*)
for threads in 1 2; do
  ours=$("$bin/imgcls-dev" pdq --bench-rounds "${ROUNDS:-3}" --threads "$threads" "${files[@]}" | value images_per_second)
  theirs=$("$venv/bin/python" - "$threads" "${ROUNDS:-3}" "${files[@]}" <<'PY'
import multiprocessing, sys, time
import numpy as np, pdqhash
from PIL import Image
workers, rounds, paths = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
images = [np.ascontiguousarray(np.asarray(Image.open(p).convert("RGB"), dtype=np.uint8)) for p in paths]
def hash_share(k):
    for image in images[k::workers]:
        pdqhash.compute_dihedral(image)
best = float("inf")
with multiprocessing.Pool(workers) as pool:  # forked after the decode: each process has the pictures
    for _ in range(rounds):
        started = time.perf_counter()
        pool.map(hash_share, range(workers))
        best = min(best, time.perf_counter() - started)
print(len(images) / best)
PY
)
  need_number "$ours" "imgcls pdq"; need_number "$theirs" "pdqhash"
  echo "PDQ (8 orientations), $threads thread(s): imgcls $(decimals 1 "$ours") images/s, pdqhash $(decimals 1 "$theirs") images/s, ratio $(ratio "$ours" "$theirs")"
  result "PDQ hashing, $threads thread(s)" "imgcls PDQ" "pdqhash" "$(decimals 1 "$ours")" "$(decimals 1 "$theirs")" images/s ">=1.0"
done
