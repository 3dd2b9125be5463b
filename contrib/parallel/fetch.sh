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

parallel_rounds "$n" "$shard_dir/{}/reports/shard.json" "$shard_dir/joblog" \
  "$imgcls" fetch "$@" --shard "{}/$n" --workspace "$shard_dir/{}" --quiet
merge_shards "$imgcls" "$workspace" "$shard_dir" "$n"
