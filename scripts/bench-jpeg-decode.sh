#!/usr/bin/env bash
# JPEG decode benchmark: imgcls (release build) next to libjpeg-turbo's djpeg on the same generated files,
# one thread each, in one run. Prints megapixels/s of both and the ratio (goal: at least 0.9).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product imgcls-dev >/dev/null
bin=$(swift build -c release --show-bin-path)
corpus=bench-data/jpeg
if [ ! -f "$corpus/.complete" ]; then
  rm -rf "$corpus"
  "$bin/imgcls-dev" jpeg-corpus "$corpus" --count "${JPEG_COUNT:-60}"
  touch "$corpus/.complete"
fi
"$bin/imgcls-dev" bench-jpeg-decode "$corpus" --rounds "${ROUNDS:-3}" | tee bench-data/jpeg-decode.txt
# One RESULT line per ratio, for scripts/bench.sh (fields: name, command, peer, ours, theirs, unit, ratio, goal).
awk -v OFS='\t' '
  /^imgcls / { ours = $2 }
  /^djpeg, process per file/ { theirs = $(NF - 1) }
  /^djpeg, minus/ { theirs_decode = $(NF - 1) }
  /^ratio imgcls\/djpeg:/ { ratio = $3; ratio_decode = substr($4, 2) }
  END {
    print "RESULT", "jpeg decode (one thread)", "imgcls-dev bench-jpeg-decode", "djpeg, process per file", ours, theirs, "MP/s", ratio, ">=0.9"
    print "RESULT", "jpeg decode (one thread)", "imgcls-dev bench-jpeg-decode", "djpeg, minus its process start", ours, theirs_decode, "MP/s", ratio_decode, ">=0.9"
  }' bench-data/jpeg-decode.txt
