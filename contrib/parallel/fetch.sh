#!/usr/bin/env bash
# Fetch a manifest as N shards with GNU parallel, on this machine or on several over ssh, retry the shards
# that failed, and merge them:
#
#   contrib/parallel/fetch.sh WORKSPACE N MANIFEST... [imgcls fetch options]
#
# Each job runs `imgcls fetch ... --shard K/N --workspace SHARD_DIR/K`. The job log (SHARD_DIR/joblog) records
# each shard's exit status; every round reruns only the failed ones (--resume-failed), then the shards' completion
# markers are checked and `imgcls catalog merge` brings them into WORKSPACE. Settings (environment):
#   SHARD_DIR   the shard workspaces (default WORKSPACE-shards); with --sshloginfile, on storage all hosts see
#   JOBS        shards running at once (default 4); each runs --concurrency transfers
#   ROUNDS      rounds before giving up on shards that keep failing (default 3)
#   PARALLEL_OPTIONS  more options for parallel, e.g. "--sshloginfile hosts --timeout 4h"
#   IMGCLS      the imgcls binary (default: the one on PATH), the same path on every host
set -euo pipefail
# shellcheck source=../shards.sh
source "$(dirname "$0")/../shards.sh"
if [ $# -lt 3 ]; then sed -n '2,15p' "$0" >&2; exit 2; fi
workspace=$1 n=$2
shift 2
shard_dir=$(mkdir -p "${SHARD_DIR:-$workspace-shards}" && cd "${SHARD_DIR:-$workspace-shards}" && pwd)
imgcls=$(command -v "${IMGCLS:-imgcls}") || { echo "fetch.sh: no imgcls binary; set IMGCLS" >&2; exit 2; }

# Each call starts with a new job log: the first round runs every shard (a completed one is a quick no-op, and
# one whose manifest changed starts again), later rounds only the failed ones.
rm -f "$shard_dir/joblog"
left=""
for round in $(seq 1 "${ROUNDS:-3}"); do
  echo "fetch.sh: round $round"
  # -q: the fetch arguments go through as they are, spaces and all; {} is the shard number.
  # shellcheck disable=SC2086 # PARALLEL_OPTIONS is a list of options
  parallel -q --joblog "$shard_dir/joblog" --resume-failed --jobs "${JOBS:-4}" ${PARALLEL_OPTIONS:-} \
    "$imgcls" fetch "$@" --shard "{}/$n" --workspace "$shard_dir/{}" --quiet ::: $(seq 1 "$n") || true
  left=$(missing_markers "$n" "$shard_dir/{}/reports/shard.json")
  [ -z "$left" ] && break
  echo "fetch.sh: round $round: shards $left did not complete (exit statuses in $shard_dir/joblog)"
done
if [ -n "$left" ]; then
  echo "fetch.sh: shards $left did not complete after ${ROUNDS:-3} rounds; see $shard_dir/joblog" >&2
  exit 1
fi
merge_shards "$imgcls" "$workspace" "$shard_dir" "$n"
