#!/usr/bin/env bash
# A paired A/B of the engine against an earlier commit: the training step (`imgcls-dev bench-train`, the default
# small residual network) and EfficientNet-Lite0's features (`imgcls-dev bench-features`, when the backbone is
# installed), each built in release from BASE (default HEAD~1) and from the working tree, run alternately in one
# run, best of ROUNDS each. For changes that must not slow the engine down (a move of code between modules).
# Usage: scripts/bench-ab.sh [BASE]. Environment: ROUNDS (5), THREADS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-HEAD~1}; ROUNDS=${ROUNDS:-5}; THREADS=${THREADS:-2}
revision=$(git rev-parse --short "$base")
folder=bench-data/ab-$revision
if [ ! -x "$folder/.build/release/imgcls-dev" ]; then
  rm -rf "$folder" && mkdir -p "$folder"
  git archive "$revision" | tar -x -C "$folder"
  (cd "$folder" && swift build -c release --product imgcls-dev >/dev/null)
fi
swift build -c release --product imgcls-dev >/dev/null
binaries=("$folder/.build/release/imgcls-dev" "$(swift build -c release --show-bin-path)/imgcls-dev")
names=("$revision" "working tree")
model=$(ls "${XDG_CACHE_HOME:-$HOME/.cache}/imgcls/backbones/efficientnet-lite0.safetensors" 2>/dev/null || true)
echo "A/B: $revision against the working tree, best of $ROUNDS alternating rounds, $THREADS threads, $(grep -o -w -E 'avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"

rate() { sed -E 's/.*: ([0-9.]+) images\/s.*/\1/'; }
benchmarks=("train" "train-64px")
[ -n "$model" ] && benchmarks+=("features-1" "features-16")
run() {  # run BINARY BENCHMARK: images/s
  case "$2" in
    train) "$1" bench-train --threads "$THREADS" --steps 20 | rate ;;
    train-64px) "$1" bench-train --input-size 64 --batch-size 32 --threads "$THREADS" --steps 10 | rate ;;
    features-1) "$1" bench-features --model "$model" --batch-size 1 --batches 20 --threads "$THREADS" | rate ;;
    features-16) "$1" bench-features --model "$model" --batch-size 16 --batches 4 --threads "$THREADS" | rate ;;
  esac
}
for benchmark in "${benchmarks[@]}"; do
  best=(0 0)
  for round in $(seq "$ROUNDS"); do
    for side in 0 1; do
      value=$(run "${binaries[$side]}" "$benchmark")
      best[$side]=$(awk "BEGIN { print ($value > ${best[$side]}) ? $value : ${best[$side]} }")
    done
  done
  ratio=$(awk "BEGIN { printf \"%.3f\", ${best[1]} / ${best[0]} }")
  echo "$benchmark: ${names[0]} ${best[0]} images/s, ${names[1]} ${best[1]} images/s, ratio ${ratio}"
  printf 'RESULT\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "A/B $benchmark" "scripts/bench-ab.sh $revision" "$revision" \
    "${best[1]}" "${best[0]}" images/s "$ratio" ">=0.97"
done
