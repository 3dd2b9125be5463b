#!/usr/bin/env bash
# Runs every benchmark in scripts/ in turn (`make bench`), each one's whole output shown and kept in
# bench-data/logs/bench-NAME.log, then prints one table of their results and the machine they ran on, and writes
# the table as Markdown to bench-data/results.md (to paste into the README). The table is made of the RESULT lines
# the scripts print through scripts/bench-lib.sh's `result`, one per ratio or goal, tab-separated: RESULT, name,
# command, peer, ours, theirs, unit, ratio,
# goal ("-" where there is none; a goal is >=X, <=X, >X, <X or =X, checked against the ratio, or against ours when
# there is no ratio). A script that fails shows in the table as failed, with its exit code, and the others still
# run; bench.sh then exits 1. Goals not met do not change its exit status.
# Environment: ONLY (names to run, in this order, e.g. ONLY="jpeg-decode fetch"; default all), and each script's
# own knobs, passed through (ROUNDS, COUNT, DURATION, ...: see each script's header; some names mean different
# things in different scripts). BENCH_SCRIPTS (paths of scripts to run instead; for testing this script).
set -uo pipefail
cd "$(dirname "$0")/.."

all="jpeg-decode fetch curate train backbone features finetune serve assist review pdq"
scripts=()
if [ -n "${BENCH_SCRIPTS:-}" ]; then
  read -r -a scripts <<< "$BENCH_SCRIPTS"
else
  for name in ${ONLY:-$all}; do
    [ -x "scripts/bench-$name.sh" ] || { echo "bench: no benchmark named $name (there are: $all)" >&2; exit 2; }
    scripts+=("scripts/bench-$name.sh")
  done
fi

# The machine, before the benchmarks run.
lscpu_field() { lscpu 2>/dev/null | sed -n "s/^$1: *//p" | head -1; }
cpu=$(lscpu_field 'Model name')
[ -n "$cpu" ] || cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cores="$(nproc) (nproc); lscpu: $(lscpu_field 'CPU(s)') CPUs, $(lscpu_field 'Socket(s)') socket(s), $(lscpu_field 'Core(s) per socket') cores per socket, $(lscpu_field 'Thread(s) per core') thread(s) per core"
memory=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os=$( (. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-}") ); [ -n "$os" ] || os=$(uname -s)
os+=", kernel $(uname -r)"
swift_version=$(command -v swift >/dev/null && swift --version 2>&1 | head -1 || echo "not on PATH")
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain 2>/dev/null)" ] || commit+=" (with uncommitted changes)"
started=$(date '+%Y-%m-%d %H:%M %Z'); started_s=$(date +%s)

logs=bench-data/logs
mkdir -p "$logs"
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
failed=0
echo "bench: running ${scripts[*]}; logs in $logs/"
for script in "${scripts[@]}"; do
  name=$(basename "$script" .sh)
  log=$logs/$name.log
  echo
  echo "== $script ($(date +%H:%M:%S))"
  script_started=$(date +%s)
  "$script" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  echo "== $script: exit $status after $(( $(date +%s) - script_started )) s"
  # RESULT's eight fields, and an empty "met" for the table to work out.
  awk -F'\t' -v OFS='\t' '$1 == "RESULT" { print $2, $3, $4, $5, $6, $7, $8, $9, "" }' "$log" >> "$rows"
  if [ "$status" != 0 ]; then
    failed=1
    printf '%s\t%s\t-\t-\t-\t-\t-\t-\tFAILED (exit %s)\n' "$name" "$script" "$status" >> "$rows"
  elif ! grep -q "^RESULT	" "$log"; then
    printf '%s\t%s\t-\t-\t-\t-\t-\t-\tno RESULT lines\n' "$name" "$script" >> "$rows"
  fi
done
elapsed=$(( $(date +%s) - started_s ))

machine=(
  "CPU: $cpu"
  "cores: $cores"
  "memory: $memory"
  "OS: $os"
  "swift: $swift_version"
  "date: $started (the run took $((elapsed / 3600))h $((elapsed % 3600 / 60))m $((elapsed % 60))s)"
  "commit: $commit"
)

echo
echo "== results"
awk -F'\t' -v md=bench-data/results.md '
  function numeric(x) { return x ~ /^-?[0-9]+(\.[0-9]+)?$/ }
  function met(ours, ratio, goal,   value, op, target) {
    if (goal == "-" || goal == "") return "-"
    if (!match(goal, /^(>=|<=|>|<|=)/)) return "?"
    op = substr(goal, 1, RLENGTH); target = substr(goal, RLENGTH + 1)
    value = (ratio != "-" && ratio != "") ? ratio : ours
    if (!numeric(value) || !numeric(target)) return "?"
    value += 0; target += 0
    if (op == ">=") return value >= target ? "yes" : "NO"
    if (op == "<=") return value <= target ? "yes" : "NO"
    if (op == ">") return value > target ? "yes" : "NO"
    if (op == "<") return value < target ? "yes" : "NO"
    return value == target ? "yes" : "NO"
  }
  function md_cell(x) { gsub(/\|/, "\\|", x); return x }
  BEGIN {
    n = split("benchmark|command|peer|ours|theirs|unit|ratio|goal|met", header, "|")
    split("l l l r r l r l l", align, " ")
    rows = 1
    for (c = 1; c <= n; c++) { cell[1, c] = header[c]; width[c] = length(header[c]) }
  }
  {
    rows++
    for (c = 1; c <= n; c++) cell[rows, c] = ($c == "" && c < n) ? "-" : $c
    if (cell[rows, n] == "") cell[rows, n] = met(cell[rows, 4], cell[rows, 7], cell[rows, 8])
    for (c = 1; c <= n; c++) if (length(cell[rows, c]) > width[c]) width[c] = length(cell[rows, c])
  }
  END {
    for (r = 1; r <= rows; r++) {
      line = ""
      for (c = 1; c <= n; c++) {
        text = (align[c] == "r" && r > 1) ? sprintf("%" width[c] "s", cell[r, c]) : sprintf("%-" width[c] "s", cell[r, c])
        line = line (c > 1 ? "  " : "") text
      }
      sub(/ +$/, "", line)
      print line
      if (r == 1) {
        line = ""
        for (c = 1; c <= n; c++) { dashes = sprintf("%" width[c] "s", ""); gsub(/ /, "-", dashes); line = line (c > 1 ? "  " : "") dashes }
        print line
      }
    }
    line = "|"; rule = "|"
    for (c = 1; c <= n; c++) { line = line " " header[c] " |"; rule = rule (align[c] == "r" ? "---:|" : "---|") }
    print line > md
    print rule > md
    for (r = 2; r <= rows; r++) {
      line = "|"
      for (c = 1; c <= n; c++) {
        text = md_cell(cell[r, c])
        if (c == 2 && text != "-") text = "`" text "`"
        line = line " " text " |"
      }
      print line > md
    }
  }' "$rows"
echo
printf '%s\n' "${machine[@]}"
{ echo; printf -- '- %s\n' "${machine[@]}"; } >> bench-data/results.md
echo
echo "(the table as Markdown: bench-data/results.md; each benchmark's whole output: $logs/)"
exit "$failed"
