# Sourced by every benchmark script (scripts/bench-*.sh): the release build, the venv of peer tools, values read
# from the tools' machine-readable output (`imgcls-dev bench-* --values`: one `name value` line each), numbers
# compared without Python one-liners, and the RESULT lines scripts/bench.sh gathers, each made from values.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p bench-data

# bench_build PRODUCT...: release builds of imgcls / imgcls-dev; sets bin to their folder.
bench_build() {
  local product
  for product in "$@"; do swift build -c release --product "$product" >/dev/null; done
  bin=$(swift build -c release --show-bin-path)
}

# bench_venv NAME PACKAGE...: the venv bench-data/venv-NAME with these PyPI packages (installed once); sets venv.
# Peers whose dependencies could move each other's (torch, imagehash, cleanlab) keep venvs of their own.
bench_venv() {
  venv=$(pwd)/bench-data/venv-$1
  shift
  local names=("${@%%[=<>]*}") found=0
  # Given several names, `pip show` succeeds when any one is installed: count the packages it describes.
  [ -x "$venv/bin/pip" ] && found=$("$venv/bin/pip" show "${names[@]}" 2>/dev/null | grep -c '^Name:')
  if [ ! -x "$venv/bin/python" ] || [ "$found" != "${#names[@]}" ]; then
    echo "installing $* from PyPI into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "$@"
  fi
}

# bench_backbone: EfficientNet-Lite0 installed (imgcls backbone install); sets model. Needs bench_build imgcls.
bench_backbone() {
  "$bin/imgcls" backbone list | grep -q "^efficientnet-lite0 .*safetensors" || "$bin/imgcls" backbone install efficientnet-lite0
  model="${XDG_CACHE_HOME:-$HOME/.cache}/imgcls/backbones/efficientnet-lite0.safetensors"
}

# elapsed COMMAND...: runs it (its output dropped) and prints the wall time in seconds, to the millisecond; fails
# as the command failed (the time is printed all the same).
elapsed() {
  local started status=0
  started=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || status=$?
  awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", b - a }'
  return "$status"
}

# seconds COMMAND...: the same in whole seconds.
seconds() { local t status=0; t=$(elapsed "$@") || status=$?; decimals 0 "$t"; return "$status"; }

# need_number X WHAT: stops the script, naming WHAT, unless X is a number: a tool that failed or a value that is
# missing must fail the benchmark (bench.sh then shows it as failed), never become a 0 in the table.
need_number() {
  [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]] && return 0
  echo "bench: $2: expected a number, got '$1'" >&2
  exit 1
}

# value NAME: NAME's value among the `name value` lines on standard input; fails when none says it.
value() { awk -v name="$1" '$1 == name { print $2; found = 1 } END { exit !found }'; }

# max A B: the larger number.
max() { need_number "$1" max; need_number "$2" max; awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 > b + 0) ? a : b }'; }

# ratio A B: A / B with two decimals ("-" when B is not a positive number).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a ~ /^-?[0-9.]+$/) printf "%.2f\n", a / b; else print "-" }'; }

# decimals N X: X with N decimals.
decimals() { need_number "$2" decimals; awk -v n="$1" -v x="$2" 'BEGIN { printf "%.*f\n", n, x }'; }

# result NAME COMMAND PEER OURS THEIRS UNIT GOAL [RATIO]: one RESULT line for scripts/bench.sh (tab-separated: name,
# command, peer, ours, theirs, unit, ratio, goal), printed now. The ratio is ours/theirs unless given (for times, give
# theirs/ours: how many times faster). Use "-" for what does not apply.
result() {
  [ "$4" = "-" ] || need_number "$4" "$1 (ours)"
  [ "$5" = "-" ] || need_number "$5" "$1 (theirs)"
  local r=${8:-"-"}
  [ $# -lt 8 ] && [ "$5" != "-" ] && r=$(ratio "$4" "$5")
  printf 'RESULT\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$r" "$7"
}
