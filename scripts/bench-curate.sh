#!/usr/bin/env bash
# Curate benchmark, side by side in one run on the same folder of generated JPEG/PNG files with planted near
# duplicates (re-encoded, resized, cropped 1%, metadata changed):
#   1. images/s: `imgcls curate --from` (import, then validation, hashes, quality measures, decisions; the whole
#      process, on all cores) against Python imagehash's phash (installed from PyPI into a venv here; its hashing
#      loop alone, in one process), goal at least 5x; and the recall on
#      planted pairs and the false-positive pairs of both, at a pHash threshold of 10 (imgcls also confirms
#      with its detail hash, as it does by default).
#   2. near-duplicate search over 1,000,000 random 64-bit hashes with planted pairs at threshold 8, one core
#      (goal: under a minute).
# Environment: COUNT (distinct pictures, 2500), PLANTED (500).
source "$(dirname "$0")/bench-lib.sh"
COUNT=${COUNT:-2500}
PLANTED=${PLANTED:-500}
scripts/setup.sh python3-venv
bench_build imgcls imgcls-dev
out=$(pwd)/bench-data/curate
mkdir -p "$out"
bench_venv imagehash imagehash pillow numpy

corpus=$out/corpus
if [ ! -f "$corpus/.complete" ] || [ "$(cat "$corpus/.complete")" != "$COUNT/$PLANTED" ]; then
  rm -rf "$corpus"
  "$bin/imgcls-dev" curate-corpus "$corpus" --count "$COUNT" --planted "$PLANTED"
  echo "$COUNT/$PLANTED" > "$corpus/.complete"
fi
files=$((COUNT + PLANTED))

# Both tools read the files from the page cache: read them all once first (else the first tool timed pays
# for the disk).
find "$corpus" -type f -exec cat {} + > /dev/null

# imgcls: `curate --from` imports the folder (read, hash, check headers, link) then curates it (decode, hashes,
# measures, decisions, reports).
rm -rf "$out/ws"
TIMEFORMAT='%R %U %S'
{ time "$bin/imgcls" curate --from "$corpus" --workspace "$out/ws" --quiet --near 10 >/dev/null; } 2> "$out/curate.time"
read -r imgcls_s curate_u curate_sy < "$out/curate.time"
imgcls_cpu=$(awk "BEGIN { print $curate_u + $curate_sy }")
# Pairs imgcls found: each excluded duplicate with the item kept in its place.
sqlite3 -csv "$out/ws/catalog.sqlite" "
  SELECT substr(d.source, length('$corpus') + 2), substr(k.source, length('$corpus') + 2)
  FROM items d JOIN items k ON d.duplicate_of = k.id WHERE d.reason IN ('duplicate', 'near_duplicate')" > "$out/imgcls-pairs.csv"

# imagehash: the same files, one process (as its users run it), pHash and all pairs within 10 bits.
cat > "$out/imagehash_bench.py" <<'PY'
import csv, os, sys, time
import imagehash, numpy
from PIL import Image
corpus, threshold = sys.argv[1], int(sys.argv[2])
paths = sorted(os.path.join(r, f) for r, _, fs in os.walk(corpus) for f in fs if f.endswith((".jpg", ".png")))
start = time.perf_counter()
hashes = [imagehash.phash(Image.open(p)) for p in paths]
elapsed = time.perf_counter() - start
bits = numpy.array([h.hash.flatten() for h in hashes])
names = [os.path.relpath(p, corpus) for p in paths]
with open(sys.argv[3], "w", newline="") as f:
    w = csv.writer(f)
    for i in range(len(bits)):
        d = (bits[i + 1:] != bits[i]).sum(axis=1)
        for j in numpy.nonzero(d <= threshold)[0]:
            w.writerow([names[i], names[i + 1 + j]])
print(f"{len(paths)} {elapsed:.3f}")
PY
read -r ih_files ih_s < <("$venv/bin/python" "$out/imagehash_bench.py" "$corpus" 10 "$out/imagehash-pairs.csv")

# Both tools scored the same way, whatever form their pairs take (imgcls links each duplicate to the item kept
# in its place, imagehash lists every close pair): the pairs join files into groups; recall is the share of
# planted pairs inside one group, and false-positive pairs are the pairs of files in one group that were not
# planted (a group of a planted pair and one stranger has two).
score() {  # PAIRS.csv -> "recall false_positives"
  "$venv/bin/python" - "$corpus/planted.csv" "$1" <<'PY'
import csv, sys
from collections import Counter
planted = {frozenset((r["first"], r["second"])) for r in csv.DictReader(open(sys.argv[1]))}
parent = {}
def root(x):
    parent.setdefault(x, x)
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x
for r in csv.reader(open(sys.argv[2])):
    if len(r) >= 2:
        parent[root(r[0])] = root(r[1])
found = sum(1 for p in planted if len(p) == 2 and all(x in parent for x in p) and len({root(x) for x in p}) == 1)
sizes = Counter(root(x) for x in list(parent))
together = sum(k * (k - 1) // 2 for k in sizes.values())
print(found * 100 // len(planted), together - found)
PY
}
read -r imgcls_recall imgcls_fp < <(score "$out/imgcls-pairs.csv")
read -r ih_recall ih_fp < <(score "$out/imagehash-pairs.csv")
ours=$(awk -v n="$files" -v s="$imgcls_s" 'BEGIN { printf "%.1f\n", n / s }')
theirs=$(awk -v n="$ih_files" -v s="$ih_s" 'BEGIN { printf "%.1f\n", n / s }')
echo "corpus: $files files ($COUNT distinct pictures, JPEG and PNG, 320x240 to 1024x768; $PLANTED planted near duplicates)"
echo
echo "1.                                 images/s   planted pairs found   false-positive pairs"
printf "   imgcls curate --from            %8.1f   %3d%%                  %d\n" "$ours" "$imgcls_recall" "$imgcls_fp"
printf "   imagehash phash (one process)   %8.1f   %3d%%                  %d\n" "$theirs" "$ih_recall" "$ih_fp"
echo "   ratio imgcls/imagehash: $(ratio "$ours" "$theirs") (goal: at least 5); imgcls used $imgcls_cpu CPU s on $(nproc) cores"
result "curate, $files files" "imgcls curate --from" "imagehash phash (one process)" "$ours" "$theirs" images/s ">=5"
echo "   (imgcls also validates every file fully, measures quality and records everything in its catalog)"
# The ceiling: imgcls's decoders alone (libjpeg-turbo at the analysis scale, libpng with Debian's zlib), one
# thread, against imagehash's whole time per image, times the cores.
steps=$("$bin/imgcls-dev" bench-resize "$corpus" --limit 0 --repeats 1 --analysis-only --values 2>/dev/null)
decode_ms=$(value decode_for_analysis_ms <<< "$steps")
analyze_ms=$(value analyze_whole_ms <<< "$steps")
ih_ms=$(awk -v n="$ih_files" -v s="$ih_s" 'BEGIN { print 1000 * s / n }')
echo "   per image on one thread: imgcls's validating decode $(decimals 3 "$decode_ms") ms, its whole analysis $(decimals 3 "$analyze_ms") ms; imagehash $(decimals 3 "$ih_ms") ms"
echo "   ceiling on $(nproc) cores with nothing but decoding: $(ratio "$(nproc)" "$(awk -v d="$decode_ms" -v i="$ih_ms" 'BEGIN { print d / i }')")x imagehash; with the analysis alone: $(ratio "$(nproc)" "$(awk -v a="$analyze_ms" -v i="$ih_ms" 'BEGIN { print a / i }')")x"
echo
near=$("$bin/imgcls-dev" bench-near-duplicates --values)
result "curate, near-duplicate search, 1M hashes" "imgcls-dev bench-near-duplicates" - "$(decimals 2 "$(value search_seconds <<< "$near")")" - s "<60"
