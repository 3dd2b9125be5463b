#!/usr/bin/env bash
# JPEG decode benchmark: imgcls (release build) next to libjpeg-turbo's djpeg on the same generated files,
# one thread each, in one run. Prints megapixels/s of both and the ratio (goal: at least 0.9).
source "$(dirname "$0")/bench-lib.sh"
scripts/setup.sh
bench_build imgcls-dev
corpus=bench-data/jpeg
if [ ! -f "$corpus/.complete" ]; then
  rm -rf "$corpus"
  "$bin/imgcls-dev" jpeg-corpus "$corpus" --count "${JPEG_COUNT:-60}"
  touch "$corpus/.complete"
fi
# The people's lines go to standard error (shown), the values to standard output.
values=$("$bin/imgcls-dev" bench-jpeg-decode "$corpus" --rounds "${ROUNDS:-3}" --values)
ours=$(value imgcls_mp_per_second <<< "$values")
result "jpeg decode (one thread)" "imgcls-dev bench-jpeg-decode" "djpeg, process per file" "$(decimals 1 "$ours")" \
  "$(decimals 1 "$(value djpeg_mp_per_second <<< "$values")")" MP/s ">=0.9"
result "jpeg decode (one thread)" "imgcls-dev bench-jpeg-decode" "djpeg, minus its process start" "$(decimals 1 "$ours")" \
  "$(decimals 1 "$(value djpeg_decode_mp_per_second <<< "$values")")" MP/s ">=0.9"
