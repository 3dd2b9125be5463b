# Shared by the drivers in contrib/ (sourced): which shards lack a completion marker, and the merge of all N.

# The shards K of 1..N whose marker file is missing, comma-separated (empty: all completed). TEMPLATE is the
# marker's path with {} for K.
missing_markers() {
  local n=$1 template=$2 k
  for k in $(seq 1 "$n"); do [ -f "${template//\{\}/$k}" ] || echo "$k"; done | paste -sd, -
}

# Merges shards 1..N of SHARD_DIR into WORKSPACE (merge itself refuses an incomplete or mixed set).
merge_shards() {
  local imgcls=$1 workspace=$2 shard_dir=$3 n=$4 k shards=()
  for k in $(seq 1 "$n"); do shards+=("$shard_dir/$k"); done
  "$imgcls" catalog merge --workspace "$workspace" "${shards[@]}"
}
