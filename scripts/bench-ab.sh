#!/usr/bin/env bash
# A paired A/B of the engine against an earlier commit: the training step (`imgcls-dev bench-train`, the default
# small residual network, at 32 and 64 px) and EfficientNet-Lite0's features (`imgcls-dev bench-features`, batch 1
# and 16, when the backbone is installed), each built in release from BASE (default HEAD~1) and from the working
# tree, run alternately in one run, best of ROUNDS each, 2 threads each. For changes that must not slow the engine
# down (a move of code between modules). Not part of `make bench` (it has no peer tool).
# Usage: scripts/bench-ab.sh [BASE]. Environment: ROUNDS (5), THREADS (2).
source "$(dirname "$0")/bench-lib.sh"
base=${1:-HEAD~1}; ROUNDS=${ROUNDS:-5}; THREADS=${THREADS:-2}
revision=$(git rev-parse --short "$base")
folder=bench-data/ab-$revision
if [ ! -x "$folder/.build/release/imgcls-dev" ]; then
  rm -rf "$folder" && mkdir -p "$folder"
  git archive "$revision" | tar -x -C "$folder"
  (cd "$folder" && swift build -c release --product imgcls-dev >/dev/null)
fi
bench_build imgcls-dev
binaries=("$folder/.build/release/imgcls-dev" "$bin/imgcls-dev")
names=("$revision" "working tree")
model="${XDG_CACHE_HOME:-$HOME/.cache}/imgcls/backbones/efficientnet-lite0.safetensors"
echo "A/B: $revision against the working tree, best of $ROUNDS alternating rounds, $THREADS threads, $(grep -o -w -E 'avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"

benchmarks=(train-32px train-64px)
[ -f "$model" ] && benchmarks+=(features-1 features-16)
# The base may predate --values: its images/s is then read from the one line it prints.
rate() { local out; out=$("$@" 2>/dev/null); value images_per_second <<< "$out" 2>/dev/null || sed -nE 's/.*: ([0-9.]+) images\/s.*/\1/p' <<< "$out"; }
run() {  # run BINARY BENCHMARK: images/s
  local values=()
  [ "$1" != "${binaries[0]}" ] && values=(--values)
  case "$2" in
    train-32px) rate "$1" bench-train --threads "$THREADS" --steps 20 "${values[@]}" ;;
    train-64px) rate "$1" bench-train --input-size 64 --batch-size 32 --threads "$THREADS" --steps 10 "${values[@]}" ;;
    features-1) rate "$1" bench-features --model "$model" --batch-size 1 --batches 20 --threads "$THREADS" "${values[@]}" ;;
    features-16) rate "$1" bench-features --model "$model" --batch-size 16 --batches 4 --threads "$THREADS" "${values[@]}" ;;
  esac
}
for benchmark in "${benchmarks[@]}"; do
  best=(0 0)
  for round in $(seq "$ROUNDS"); do
    for side in 0 1; do best[$side]=$(max "$(decimals 1 "$(run "${binaries[$side]}" "$benchmark")")" "${best[$side]}"); done
  done
  echo "$benchmark: ${names[0]} ${best[0]} images/s, ${names[1]} ${best[1]} images/s, ratio $(ratio "${best[1]}" "${best[0]}")"
  result "A/B $benchmark" "scripts/bench-ab.sh $revision" "$revision" "${best[1]}" "${best[0]}" images/s ">=0.97"
done
