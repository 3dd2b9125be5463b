#!/usr/bin/env bash
# A fetch as N Spark tasks (FetchShards.java), then the merge:
#
#   contrib/spark/run.sh WORKSPACE N MANIFEST... [imgcls fetch options]
#
# Compiles FetchShards.java against Spark's own jars (needs a JDK: javac) into contrib/spark/build/, then runs it
# with spark-submit. Settings (environment):
#   SPARK_HOME            where Spark is (default: the pyspark package's, if `python3 -c 'import pyspark'` works)
#   SPARK_SUBMIT_OPTIONS  e.g. "--master spark://head:7077 --conf spark.task.maxFailures=4"; default
#                         "--master local[4,3]": 4 tasks at once, each tried up to 3 times
#   SHARD_DIR             the shard workspaces (default WORKSPACE-shards), on storage every executor sees
#   IMGCLS                the imgcls binary, the same path on every executor
set -euo pipefail
if [ $# -lt 3 ]; then sed -n '2,13p' "$0" >&2; exit 2; fi
here=$(cd "$(dirname "$0")" && pwd)
workspace=$(mkdir -p "$1" && cd "$1" && pwd) n=$2
shift 2
shard_dir=$(mkdir -p "${SHARD_DIR:-$workspace-shards}" && cd "${SHARD_DIR:-$workspace-shards}" && pwd)
imgcls=$(command -v "${IMGCLS:-imgcls}") || { echo "run.sh: no imgcls binary; set IMGCLS" >&2; exit 2; }
spark_home=${SPARK_HOME:-$(python3 -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))' 2>/dev/null || true)}
[ -x "$spark_home/bin/spark-submit" ] || { echo "run.sh: no Spark: set SPARK_HOME (or pip install pyspark)" >&2; exit 2; }
if [ ! -f "$here/build/fetch-shards.jar" ] || [ "$here/FetchShards.java" -nt "$here/build/fetch-shards.jar" ]; then
  mkdir -p "$here/build/classes"
  javac -d "$here/build/classes" -cp "$spark_home/jars/*" "$here/FetchShards.java"
  jar cf "$here/build/fetch-shards.jar" -C "$here/build/classes" .
fi
# shellcheck disable=SC2086 # SPARK_SUBMIT_OPTIONS is a list of options
"$spark_home/bin/spark-submit" ${SPARK_SUBMIT_OPTIONS:---master "local[4,3]"} --class FetchShards "$here/build/fetch-shards.jar" \
  "$imgcls" "$workspace" "$shard_dir" "$n" "$@"
