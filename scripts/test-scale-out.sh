#!/usr/bin/env bash
# The scale-out contract end to end, with the real engines (`make test` runs it after the unit tests): a
# loopback site with good and bad URLs is fetched once in one process, then as 8 shards by a real Slurm
# cluster on 127.0.0.1 (contrib/slurm) and by GNU parallel (contrib/parallel). In each, one shard is killed
# mid-download; the driver resubmits only that one and merges. The merged catalog and files must equal the
# single-process run, a second submission of the whole array must change nothing, and merge must refuse an
# incomplete set. ENGINES="parallel" runs one; the Slurm part needs root (its daemons run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bin=${BIN:-$(swift build --show-bin-path)}
engines=${ENGINES:-"slurm parallel"}
work=$(mktemp -d /tmp/imgcls-scale-out.XXXXXX)
site_pid="" cluster=""
cleanup() {
  [ -z "$site_pid" ] || kill "$site_pid" 2>/dev/null || true
  [ -z "$cluster" ] || contrib/slurm/local-cluster.sh stop "$cluster" || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "scale-out: FAIL: $*" >&2; exit 1; }
scripts/setup.sh parallel sqlite3 >/dev/null

"$bin/imgcls-dev" serve-demo-site "$work/site" --per-class 24 --delay 0.5 --port-file "$work/port" >"$work/site.log" 2>&1 &
site_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "the demo site did not start: $(cat "$work/site.log")"
manifest=$work/site/raw_data
options=(--timeout 30 --retries 0)

# What a workspace holds: its rows (without ids and times) and its files with their hashes.
contents() {
  sqlite3 -cmd ".timeout 5000" "$1/catalog.sqlite" "SELECT source, label, status, coalesce(reason, ''), coalesce(sha256, ''),
    coalesce(path, ''), coalesce(width, ''), coalesce(height, ''), coalesce(bytes, '') FROM items ORDER BY source, label"
  (cd "$1" && find . -type f ! -name 'catalog.sqlite*' ! -path './reports/*' ! -path './tmp/*' -exec sha256sum {} + | sort -k 2)
}
count() { sqlite3 -cmd ".timeout 5000" "$1/catalog.sqlite" "SELECT count(*) FROM items WHERE status = '$2'" 2>/dev/null || echo 0; }
# Waits until shard K has stored some images and still has some pending: then it is mid-download.
wait_mid_download() {
  local shard=$1
  for _ in $(seq 600); do
    if [ -f "$shard/catalog.sqlite" ] && [ "$(count "$shard" ok)" -ge 1 ] && [ "$(count "$shard" pending)" -ge 1 ]; then return; fi
    sleep 0.05
  done
  fail "$shard never was mid-download"
}

"$bin/imgcls" fetch "$manifest" --workspace "$work/single" --concurrency 16 --quiet "${options[@]}" >/dev/null
contents "$work/single" >"$work/single.txt"
[ "$(count "$work/single" ok)" -ge 90 ] && [ "$(count "$work/single" failed)" -ge 6 ] || fail "the single-process run fetched too little"

check_engine() {  # NAME DRIVER-COMMAND... ; the driver runs in the background while shard 3 is killed
  local name=$1 workspace=$work/$1 shards=$work/$1-shards
  shift
  echo "scale-out: $name: 8 shards, shard 3 killed mid-download"
  SHARD_DIR=$shards "$@" "$workspace" 8 "$manifest" --concurrency 1 "${options[@]}" >"$work/$name-1.log" 2>&1 &
  local driver=$!
  wait_mid_download "$shards/3"
  kill_shard_3
  wait "$driver" || fail "$name: the driver failed: $(cat "$work/$name-1.log")"
  grep -q "shards 3 did not complete" "$work/$name-1.log" || fail "$name: shard 3 was not resubmitted alone: $(cat "$work/$name-1.log")"
  contents "$workspace" >"$work/$name.txt"
  diff "$work/single.txt" "$work/$name.txt" >&2 || fail "$name: the merged catalog or files differ from the single-process run"

  echo "scale-out: $name: a second submission of the whole array changes nothing"
  for k in $(seq 8); do contents "$shards/$k"; cat "$shards/$k/reports/shard.json"; done >"$work/$name-shards.txt"
  SHARD_DIR=$shards "$@" "$workspace" 8 "$manifest" --concurrency 1 "${options[@]}" >"$work/$name-2.log" 2>&1 \
    || fail "$name: the second submission failed: $(cat "$work/$name-2.log")"
  grep -q "did not complete" "$work/$name-2.log" && fail "$name: the second submission retried shards"
  for k in $(seq 8); do contents "$shards/$k"; cat "$shards/$k/reports/shard.json"; done | diff "$work/$name-shards.txt" - >&2 \
    || fail "$name: the second submission changed a shard"
  contents "$workspace" | diff "$work/$name.txt" - >&2 || fail "$name: the second submission changed the merged workspace"

  echo "scale-out: $name: merge is order-independent and refuses an incomplete set"
  local forward=() backward=()
  for k in $(seq 8); do forward+=("$shards/$k"); backward=("$shards/$k" "${backward[@]}"); done
  "$bin/imgcls" catalog merge --workspace "$work/$name-backward" "${backward[@]}" >/dev/null
  local rows="SELECT id, source, label, status, coalesce(sha256, '') FROM items ORDER BY id"
  [ "$(sqlite3 "$workspace/catalog.sqlite" "$rows")" = "$(sqlite3 "$work/$name-backward/catalog.sqlite" "$rows")" ] \
    || fail "$name: merging in another order gave other rows"
  if "$bin/imgcls" catalog merge --workspace "$work/$name-partial" "${forward[@]:0:7}" 2>"$work/$name-partial.log"; then
    fail "$name: merge took 7 shards of 8"
  fi
  grep -q "shards 8 of 8 are missing" "$work/$name-partial.log" || fail "$name: unclear refusal: $(cat "$work/$name-partial.log")"
}

# Feature extraction as shards into one cache (needs the backbone: `make weights`): the cache holds every
# image's features once, as one extraction in one process makes them, and the head then trains from it alone.
backbone=efficientnet-lite0
if "$bin/imgcls" backbone list | grep -q "^$backbone .*safetensors"; then
  cp -r "$work/single" "$work/features-base"
  "$bin/imgcls" curate --workspace "$work/features-base" --quiet >/dev/null
  "$bin/imgcls" split --workspace "$work/features-base" --max-per-class 4 --quiet >/dev/null
  cp -r "$work/features-base" "$work/features-single"
  "$bin/imgcls" train --workspace "$work/features-single" --backbone $backbone --mode head --features-only --quiet >/dev/null
  (cd "$work/features-single/features" && find . -type f | sort) >"$work/features-single.txt"
else
  backbone=""
  echo "scale-out: features: skipped (no $backbone backbone installed: make weights)"
fi
check_features() {  # NAME DRIVER-COMMAND...
  [ -n "$backbone" ] || return 0
  local name=$1 workspace=$work/$1-features
  shift
  echo "scale-out: $name: features as 4 shards, then the head trains from the cache"
  cp -r "$work/features-base" "$workspace"
  DONE_DIR=$work/$name-features-done "$@" 4 --workspace "$workspace" --backbone $backbone >"$work/$name-features.log" 2>&1 \
    || fail "$name: the features driver failed: $(cat "$work/$name-features.log")"
  (cd "$workspace/features" && find . -type f | sort) | diff "$work/features-single.txt" - >&2 \
    || fail "$name: the sharded feature cache differs from one extraction's"
  "$bin/imgcls" train --workspace "$workspace" --backbone $backbone --mode head --epochs 1 --json --quiet >"$work/$name-head.json" \
    || fail "$name: the head did not train"
  "$bin/imgcls" train --workspace "$workspace" --backbone $backbone --mode head --features-only --json --quiet \
    | grep -q '"computed" : 0' || fail "$name: features were computed again after the shards"
}

for engine in $engines; do
  case $engine in
    parallel)
      kill_shard_3() { pkill -KILL -f -- "--shard 3/8 --workspace" || fail "parallel: no shard 3 process to kill"; }
      check_engine parallel env JOBS=4 IMGCLS="$bin/imgcls" contrib/parallel/fetch.sh
      check_features parallel env JOBS=2 IMGCLS="$bin/imgcls" contrib/parallel/features.sh
      ;;
    slurm)
      if [ "$(id -u)" != 0 ]; then echo "scale-out: slurm: skipped (its daemons need root)"; continue; fi
      cluster=$work/cluster
      contrib/slurm/local-cluster.sh start "$cluster" >/dev/null
      export SLURM_CONF=$cluster/slurm.conf
      kill_shard_3() {
        local task
        task=$(squeue -h -r -t R -o %i | grep '_3$' | head -1)
        [ -n "$task" ] || fail "slurm: array task 3 is not running"
        scancel --signal=KILL --full "$task"
      }
      check_engine slurm env RUNNING=4 POLL=1 IMGCLS="$bin/imgcls" contrib/slurm/fetch.sh
      check_features slurm env RUNNING=2 POLL=1 IMGCLS="$bin/imgcls" contrib/slurm/features.sh
      contrib/slurm/local-cluster.sh stop "$cluster"
      cluster=""
      unset SLURM_CONF
      ;;
    *) fail "unknown engine $engine" ;;
  esac
done
# WebDataset shards of the single-process workspace, read back by Python's webdataset and tarfile (from PyPI:
# skipped, saying so, where it cannot be reached).
echo "scale-out: webdataset export, read back by Python"
"$bin/imgcls" curate --workspace "$work/single" --quiet >/dev/null
"$bin/imgcls" split --workspace "$work/single" --ratio 0.7,0.3 --quiet >/dev/null
for split in train validation; do
  "$bin/imgcls" export --format webdataset --split $split --samples-per-shard 16 --workspace "$work/single" "$work/wds" >/dev/null
  "$bin/imgcls" export --format webdataset --split $split --samples-per-shard 16 --workspace "$work/single" "$work/wds-again" >/dev/null
done
cmp <(cat "$work"/wds/*.tar) <(cat "$work"/wds-again/*.tar) || fail "two exports of the same split differ"
if python3 -m venv "$work/venv" && "$work/venv/bin/pip" install -q webdataset >"$work/pip.log" 2>&1; then
  for split in train validation; do
    "$work/venv/bin/python" scripts/reference/check-webdataset.py "$work/single" "$work/wds" $split || fail "webdataset read-back ($split)"
  done
else
  echo "scale-out: webdataset: skipped (cannot install it from PyPI: $(tail -1 "$work/pip.log"))"
fi
echo "scale-out: ok ($engines, webdataset)"
