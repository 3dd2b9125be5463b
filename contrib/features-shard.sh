#!/usr/bin/env bash
# One shard of a backbone's feature extraction: `imgcls train ARGS --features-only --shard K/N`, which computes
# and caches the features of share K of N of the split's images in the workspace's features/ folder (shared by
# every task; each image's features are one file, written atomically, so nothing needs merging). On success it
# leaves DONE_DIR/K, which the drivers check; a rerun computes only what is not cached yet.
#   features-shard.sh K N DONE_DIR [imgcls train options: --workspace W --backbone B ...]
set -euo pipefail
k=${1:?usage: features-shard.sh K N DONE_DIR [train options]} n=${2:?} done_dir=${3:?}
shift 3
mkdir -p "$done_dir"
rm -f "$done_dir/$k"
"${IMGCLS:-imgcls}" train "$@" --mode head --features-only --shard "$k/$n" --quiet
touch "$done_dir/$k"
