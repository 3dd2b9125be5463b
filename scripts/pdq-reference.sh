#!/usr/bin/env bash
# PDQ against the reference implementation: PyPI's `pdqhash` (ThreatExchange's C++ through Cython, in a venv; Python
# only here) and `imgcls-dev pdq` hash the same files, and each file's eight hashes (as is and the seven rotations and
# mirrors) and quality are compared. Pixels: each side's own decoder (Pillow; imgcls's libjpeg-turbo, libpng,
# libwebp), EXIF orientation not applied, transparency on white.
# Usage: scripts/pdq-reference.sh [FILE|FOLDER...]   (default: the test fixtures and ../shared/data/photos)
#        WRITE=1 scripts/pdq-reference.sh            rewrites Tests/ImagingTests/Fixtures/pdq/reference.txt
# ThreatExchange's whole test set: clone https://github.com/facebook/ThreatExchange and pass its pdq/data folders.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=bench-data/venv-pdq
[ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import pdqhash, PIL, numpy" 2>/dev/null || {
  python3 -m venv "$venv" && "$venv/bin/pip" install -q pdqhash pillow numpy; }
swift build --product imgcls-dev >/dev/null
bin=$(swift build --show-bin-path)
fixtures=Tests/ImagingTests/Fixtures/pdq
if [ $# -eq 0 ]; then set -- "$fixtures" ../shared/data/photos; fi
mapfile -t files < <(for p in "$@"; do [ -e "$p" ] && find "$p" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.webp' -o -iname '*.gif' \); done | sort)
[ ${#files[@]} -gt 0 ] || { echo "pdq-reference: no image files in $*" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$venv/bin/python" scripts/reference/pdq_reference.py "${files[@]}" > "$work/reference.txt"
"$bin/imgcls-dev" pdq "${files[@]}" > "$work/imgcls.txt"
if [ "${WRITE:-0}" = 1 ]; then cp "$work/reference.txt" "$fixtures/reference.txt"; echo "wrote $fixtures/reference.txt"; fi
python3 - "$work/reference.txt" "$work/imgcls.txt" <<'PY'
import sys
def read(path):
    return {fields[9]: fields for fields in (line.split() for line in open(path)) if fields[0] != "-"}
reference, ours = read(sys.argv[1]), read(sys.argv[2])
distance = lambda a, b: bin(int(a, 16) ^ int(b, 16)).count("1")
worst_bits = worst_quality = 0
for name in sorted(reference):
    if name not in ours:
        print(f"{name}: the reference hashed it, imgcls could not read it"); continue
    bits = max(distance(reference[name][i], ours[name][i]) for i in [0, 2, 3, 4, 5, 6, 7, 8])
    quality = abs(int(reference[name][1]) - int(ours[name][1]))
    worst_bits, worst_quality = max(worst_bits, bits), max(worst_quality, quality)
    if bits or quality: print(f"{name}: {bits} bits apart (of the eight hashes, the most), quality {reference[name][1]} vs {ours[name][1]}")
print(f"pdq-reference: {len(reference)} files, eight hashes each: at most {worst_bits} bits apart, quality at most {worst_quality} apart "
      f"({sum(1 for n in reference if n in ours and all(reference[n][i] == ours[n][i] for i in range(9)))} identical in all eight and quality)")
PY
