# Shared by the drivers in contrib/ (sourced): rounds of shards on Slurm or GNU parallel until every shard has
# its marker, and the merge of fetch shards. Settings: ROUNDS (3); Slurm: RUNNING (16), SBATCH_OPTIONS, POLL
# (10 s); parallel: JOBS (4), PARALLEL_OPTIONS.

# The shards K of 1..N whose marker file is missing, comma-separated (empty: all completed). TEMPLATE is the
# marker's path with {} for K.
missing_markers() {
  local n=$1 template=$2 k
  for k in $(seq 1 "$n"); do [ -f "${template//\{\}/$k}" ] || echo "$k"; done | paste -sd, -
}

# slurm_rounds N TEMPLATE LOG_DIR SCRIPT ARGS...: submits SCRIPT as an array over shards 1..N (--array=1-N%P),
# waits for it with squeue, then submits only the shards without a marker again; fails, naming them, when
# some still have none after ROUNDS submissions.
slurm_rounds() {
  local n=$1 template=$2 logs=$3 indices="1-$1" left="" round job
  shift 3
  for round in $(seq 1 "${ROUNDS:-3}"); do
    # shellcheck disable=SC2086 # SBATCH_OPTIONS is a list of options
    job=$(sbatch --parsable --array="$indices%${RUNNING:-16}" --output="$logs/%x-%a-%A.log" ${SBATCH_OPTIONS:-} "$@")
    job=${job%%;*}
    echo "round $round: job $job, shards $indices of $n"
    while [ -n "$(squeue -h -j "$job" -o %i 2>/dev/null)" ]; do sleep "${POLL:-10}"; done
    left=$(missing_markers "$n" "$template")
    [ -z "$left" ] && return 0
    echo "round $round: shards $left did not complete (logs in $logs)"
    indices=$left
  done
  echo "shards $left did not complete after ${ROUNDS:-3} rounds; see $logs" >&2
  return 1
}

# parallel_rounds N TEMPLATE JOBLOG COMMAND...: runs COMMAND for shards 1..N ({} in it is K) with GNU parallel,
# then again only the failed ones (--resume-failed), until every shard has its marker or ROUNDS have run. Each
# call starts a new job log: its first round runs every shard (a completed one is a quick no-op).
parallel_rounds() {
  local n=$1 template=$2 joblog=$3 left="" round
  shift 3
  rm -f "$joblog"
  for round in $(seq 1 "${ROUNDS:-3}"); do
    echo "round $round"
    # -q: the arguments go through as they are, spaces and all.
    # shellcheck disable=SC2086 # PARALLEL_OPTIONS is a list of options
    parallel -q --joblog "$joblog" --resume-failed --jobs "${JOBS:-4}" ${PARALLEL_OPTIONS:-} "$@" ::: $(seq 1 "$n") || true
    left=$(missing_markers "$n" "$template")
    [ -z "$left" ] && return 0
    echo "round $round: shards $left did not complete (exit statuses in $joblog)"
  done
  echo "shards $left did not complete after ${ROUNDS:-3} rounds; see $joblog" >&2
  return 1
}

# Merges fetch shards 1..N of SHARD_DIR into WORKSPACE (merge itself refuses an incomplete or mixed set).
merge_shards() {
  local imgcls=$1 workspace=$2 shard_dir=$3 n=$4 k shards=()
  for k in $(seq 1 "$n"); do shards+=("$shard_dir/$k"); done
  "$imgcls" catalog merge --workspace "$workspace" "${shards[@]}"
}
