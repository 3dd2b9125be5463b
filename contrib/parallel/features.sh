#!/usr/bin/env bash
# A backbone's features for the whole split as N shards with GNU parallel (this machine, or several with
# PARALLEL_OPTIONS="--sshloginfile hosts" and the workspace on shared storage), then the head trains from the
# cache:
#
#   contrib/parallel/features.sh N --workspace data --backbone efficientnet-lite0 [--augment-views 2 ...]
#   imgcls train --workspace data --backbone efficientnet-lite0 --mode head --name moderation
#
# Each job runs `imgcls train OPTIONS --features-only --shard K/N`; later rounds rerun only the failed ones
# (--resume-failed). Settings: JOBS (2: each job runs the backbone on --threads cores), ROUNDS (3),
# PARALLEL_OPTIONS, IMGCLS, DONE_DIR (default ./imgcls-features-done: per-shard markers and the job log).
set -euo pipefail
# shellcheck source=../shards.sh
source "$(dirname "$0")/../shards.sh"
if [ $# -lt 2 ]; then sed -n '2,12p' "$0" >&2; exit 2; fi
n=$1
shift
contrib=$(cd "$(dirname "$0")/.." && pwd)
IMGCLS=$(command -v "${IMGCLS:-imgcls}") || { echo "features.sh: no imgcls binary; set IMGCLS" >&2; exit 2; }
export IMGCLS
done_dir=$(mkdir -p "${DONE_DIR:-imgcls-features-done}" && cd "${DONE_DIR:-imgcls-features-done}" && pwd)
rm -f "$done_dir"/[0-9]*
JOBS=${JOBS:-2} parallel_rounds "$n" "$done_dir/{}" "$done_dir/joblog" "$contrib/features-shard.sh" {} "$n" "$done_dir" "$@"
echo "features.sh: all $n shards cached; train the head with: imgcls train $* --mode head"
