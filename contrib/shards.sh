# Shared by the drivers in contrib/ (sourced): which shards lack a completion marker, and the merge of all N.

# The shards of SHARD_DIR (1..N) without SHARD_DIR/K/reports/shard.json, comma-separated (empty: all completed).
incomplete_shards() {
  local shard_dir=$1 n=$2 k
  for k in $(seq 1 "$n"); do [ -f "$shard_dir/$k/reports/shard.json" ] || echo "$k"; done | paste -sd, -
}

# Merges shards 1..N of SHARD_DIR into WORKSPACE (merge itself refuses an incomplete or mixed set).
merge_shards() {
  local imgcls=$1 workspace=$2 shard_dir=$3 n=$4 k shards=()
  for k in $(seq 1 "$n"); do shards+=("$shard_dir/$k"); done
  "$imgcls" catalog merge --workspace "$workspace" "${shards[@]}"
}
