#!/usr/bin/env bash
# Fetch a manifest as a Slurm job array of N shards, retry the shards that did not complete, and merge them:
#
#   contrib/slurm/fetch.sh WORKSPACE N MANIFEST... [imgcls fetch options]
#
# Each array task runs `imgcls fetch ... --shard K/N --workspace SHARD_DIR/K` (fetch-shard.sbatch). When the
# array is done, the shards without a completion marker (SHARD_DIR/K/reports/shard.json) are submitted again,
# and only those; then `imgcls catalog merge` brings the N shards into WORKSPACE. Settings (environment):
#   SHARD_DIR   the shard workspaces (default WORKSPACE-shards): on storage every node sees, as WORKSPACE
#   RUNNING     array tasks running at once, the %P of --array=1-N%P (default 16). Make N much larger than
#               this: a shard with slow hosts holds its task, and many small shards keep the slots busy
#   ROUNDS      submissions before giving up on shards that keep failing (default 3)
#   SBATCH_OPTIONS  more sbatch options, e.g. "--partition=cpu --time=4:00:00 --mem=2G"
#   IMGCLS      the imgcls binary (default: the one on PATH), the same path on every node
#   POLL        seconds between squeue checks (default 10)
set -euo pipefail
# shellcheck source=../shards.sh
source "$(dirname "$0")/../shards.sh"
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 3 ]; then sed -n '2,17p' "$0" >&2; exit 2; fi
workspace=$1 n=$2
shift 2
shard_dir=$(mkdir -p "${SHARD_DIR:-$workspace-shards}" && cd "${SHARD_DIR:-$workspace-shards}" && pwd)
IMGCLS=$(command -v "${IMGCLS:-imgcls}") || { echo "fetch.sh: no imgcls binary; set IMGCLS" >&2; exit 2; }
export IMGCLS
mkdir -p "$shard_dir/logs"

slurm_rounds "$n" "$shard_dir/{}/reports/shard.json" "$shard_dir/logs" "$here/fetch-shard.sbatch" "$n" "$shard_dir" "$@"
merge_shards "$IMGCLS" "$workspace" "$shard_dir" "$n"
