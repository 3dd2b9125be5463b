#!/usr/bin/env bash
# JPEG decode benchmark: imgcls (release build) next to libjpeg-turbo's djpeg on the same generated files,
# one thread each, in one run. Prints megapixels/s of both and the ratio (goal: at least 0.9).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product imgcls-dev >/dev/null
bin=$(swift build -c release --show-bin-path)
corpus=bench-data/jpeg
if [ ! -f "$corpus/.complete" ]; then
  rm -rf "$corpus"
  "$bin/imgcls-dev" jpeg-corpus "$corpus" --count "${JPEG_COUNT:-60}"
  touch "$corpus/.complete"
fi
"$bin/imgcls-dev" bench-jpeg-decode "$corpus" --rounds "${ROUNDS:-3}"
