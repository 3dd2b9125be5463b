#!/usr/bin/env bash
# A backbone's features for the whole split as a Slurm job array of N shards, then the head trains on one
# machine from the cache:
#
#   contrib/slurm/features.sh N --workspace data --backbone efficientnet-lite0 [--augment-views 2 ...]
#   imgcls train --workspace data --backbone efficientnet-lite0 --mode head --name moderation
#
# Each task runs `imgcls train OPTIONS --features-only --shard K/N` into the workspace's features/ folder, which
# must be on storage every node sees. Shards that did not finish (no DONE_DIR/K) are submitted again, only
# those. Settings as for fetch.sh: RUNNING, ROUNDS, SBATCH_OPTIONS, IMGCLS, POLL; DONE_DIR (default
# ./imgcls-features-done) holds the per-shard markers.
set -euo pipefail
# shellcheck source=../shards.sh
source "$(dirname "$0")/../shards.sh"
if [ $# -lt 2 ]; then sed -n '2,12p' "$0" >&2; exit 2; fi
n=$1
shift
IMGCLS_CONTRIB=$(cd "$(dirname "$0")/.." && pwd)
IMGCLS=$(command -v "${IMGCLS:-imgcls}") || { echo "features.sh: no imgcls binary; set IMGCLS" >&2; exit 2; }
export IMGCLS IMGCLS_CONTRIB
done_dir=$(mkdir -p "${DONE_DIR:-imgcls-features-done}/logs" && cd "${DONE_DIR:-imgcls-features-done}" && pwd)
rm -f "$done_dir"/[0-9]*
slurm_rounds "$n" "$done_dir/{}" "$done_dir/logs" "$IMGCLS_CONTRIB/slurm/features-shard.sbatch" "$n" "$done_dir" "$@"
echo "features.sh: all $n shards cached; train the head with: imgcls train $* --mode head"
