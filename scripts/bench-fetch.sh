#!/usr/bin/env bash
# Fetch benchmark, side by side in one run, against one local nginx serving a corpus of JPEGs:
#   1. raw download: `imgcls fetch` vs `curl -Z --parallel-max 32` (goal: at least 0.8x images/s)
#   2. download + resize to 256 (keep ratio): `imgcls fetch --resize` vs img2dataset, installed from PyPI into
#      a venv here (goal: at least 5x images/s), with CPU seconds per 1000 images for both
#   3. a 1.5M-line manifest read into the catalog: peak RSS (goal: under 300 MB)
#   4. manifests into the catalog: URLs/s on a real list (nsfw_data_source_urls' aggregate files, when cloned
#      into manifests/; goal: at least 100,000), and lines/s a shard skips at N = 100
# The corpus (CORPUS): "real" (default), web-sized JPEGs (500-1200 px, q85) cut from the real pictures of
# Debian's wallpaper packages (scripts/wallpaper-photos.sh); "generated", drawn pictures of 160x120 to 1600x1200.
# After part 2, where imgcls's time goes per image: scaled decode, resize, encode, hashing (imgcls-dev bench-resize).
# Release build; every tool gets the same concurrency; imgcls writes only resized images in part 2
# (--discard-originals), as img2dataset keeps no originals. Part 1 runs twice: writing to the disk under
# bench-data/, and to a tmpfs (/dev/shm) where there is one, which takes the disk out and leaves the tools'
# own CPU cost (imgcls hashes every file with SHA-256 and records it in SQLite; curl only writes). Part 2
# writes to the tmpfs: on a disk, file creation after many deletions (each round starts empty) varies from
# run to run more than the tools differ. Environment: COUNT (files, 3000), PARALLEL (32), ROUNDS (3, best
# counts), PORT (18080), MANIFEST_LINES (1500000), OUTPUT (the fast output folder).
source "$(dirname "$0")/bench-lib.sh"
COUNT=${COUNT:-3000}
PARALLEL=${PARALLEL:-32}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18080}
MANIFEST_LINES=${MANIFEST_LINES:-1500000}
CORPUS=${CORPUS:-real}
REAL_LIST=${REAL_LIST:-manifests/nsfw_data_source_urls/raw_data}

scripts/setup.sh nginx-light curl time python3-venv
bench_build imgcls imgcls-dev
out=$(pwd)/bench-data/fetch
mkdir -p "$out"
if [ -z "${OUTPUT:-}" ] && [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then OUTPUT=/dev/shm/imgcls-bench; fi
fast=${OUTPUT:-$out/results}
disk=$out/results-disk
results=$fast
mkdir -p "$fast" "$disk"
trap 'rm -rf "$fast" "$disk"' EXIT

# The peer: img2dataset in its own venv. albumentations after 1.4.16 breaks its resizer (every image fails).
venv=$(pwd)/bench-data/venv
if [ ! -x "$venv/bin/img2dataset" ]; then
  echo "installing img2dataset into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q img2dataset "albumentations==1.4.16"
fi

corpus=$out/corpus
if [ ! -f "$corpus/.complete" ] || [ "$(cat "$corpus/.complete")" != "$COUNT $CORPUS" ]; then
  rm -rf "$corpus"
  case $CORPUS in
    real)
      [ -d "$out/wallpapers" ] || scripts/wallpaper-photos.sh "$out/wallpapers"
      "$bin/imgcls-dev" jpeg-corpus "$corpus" --count "$COUNT" --from "$out/wallpapers" ;;
    generated) "$bin/imgcls-dev" jpeg-corpus "$corpus" --count "$COUNT" --sizes web ;;
    *) echo "CORPUS is real or generated" >&2; exit 2 ;;
  esac
  echo "$COUNT $CORPUS" > "$corpus/.complete"
fi
corpus_mb=$(du -sm "$corpus" | cut -f1)

cat > "$out/nginx.conf" <<CONF
worker_processes 1;
pid $out/nginx.pid;
error_log $out/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  types { image/jpeg jpg; }
  server { listen 127.0.0.1:$PORT; root $corpus; }
}
CONF
nginx -c "$out/nginx.conf" -p "$out"
trap 'kill $(cat "$out/nginx.pid") 2>/dev/null || true; rm -rf "$fast" "$disk"' EXIT
sleep 0.5

mkdir -p "$out/manifest/bench"
ls "$corpus" | grep '\.jpg$' | sed "s|^|http://127.0.0.1:$PORT/|" > "$out/manifest/bench/urls.txt"
for place in "$fast" "$disk"; do
  awk -v dir="$place/curl" '{ printf "url = \"%s\"\noutput = \"%s/%d.jpg\"\n", $0, dir, NR }' "$out/manifest/bench/urls.txt" \
    > "$place.curl.cfg"
done

# once NAME COMMAND...: one timed round (fresh outputs), keeping NAME's best wall time and its CPU seconds.
# Comparisons alternate the tools round by round, so a busy moment on the machine hits both.
declare -A wall cpu
TIMEFORMAT='%R %U %S'
once() {
  local name=$1; shift
  rm -rf "$results/ws" "$results/curl" "$results/i2d"; mkdir -p "$results/curl"
  { time "$@" >/dev/null 2>"$out/$name.log"; } 2> "$out/time.txt"
  read -r w u s < "$out/time.txt"
  if [ -z "${wall[$name]:-}" ] || awk "BEGIN { exit !($w < ${wall[$name]}) }"; then
    wall[$name]=$w
    cpu[$name]=$(awk "BEGIN { print $u + $s }")
  fi
}
rate() { awk "BEGIN { printf \"%.1f\", $COUNT / ${wall[$1]} }"; }
cpu_per_1000() { awk "BEGIN { printf \"%.1f\", ${cpu[$1]} / $COUNT * 1000 }"; }
speedup() { ratio "${wall[$2]}" "${wall[$1]}"; }  # speedup A B: how many times faster A ran than B

median=$(ls "$corpus" | sed -n 's/.*-\([0-9]*\)x\([0-9]*\)\(-q[0-9]*\)\{0,1\}\.jpg$/\1 \2/p' | awk '{ print $1 * $2, $1 "x" $2 }' | sort -n \
  | awk '{ size[NR] = $2 } END { print size[int((NR + 1) / 2)] }')
echo "corpus ($CORPUS): $COUNT JPEGs, median $median, $corpus_mb MB, served by nginx on 127.0.0.1:$PORT; $PARALLEL transfers in flight;"
echo "best of $ROUNDS alternating rounds; $(nproc) cores"

echo
echo "1. raw download                 images/s   CPU s/1000"
for results in "$disk" "$fast"; do
  unset 'wall[imgcls]' 'wall[curl]'
  for _ in $(seq "$ROUNDS"); do
    once imgcls "$bin/imgcls" fetch "$out/manifest" --workspace "$results/ws" --quiet --concurrency "$PARALLEL" --per-host "$PARALLEL"
    ok=$(sqlite3 "$results/ws/catalog.sqlite" "select count(*) from items where status = 'ok'")
    once curl curl -s -g -Z --parallel-max "$PARALLEL" -K "$results.curl.cfg"
    curl_ok=$(ls "$results/curl" | wc -l)
  done
  echo "   writing to $results"
  echo "   imgcls fetch                 $(rate imgcls)   $(cpu_per_1000 imgcls)   ($ok ok)"
  echo "   curl -Z --parallel-max $PARALLEL    $(rate curl)   $(cpu_per_1000 curl)   ($curl_ok files)"
  echo "   ratio imgcls/curl: $(speedup imgcls curl) (goal: at least 0.8)"
  result "fetch, raw download to $([ "$results" = "$disk" ] && echo disk || stat -f -c %T "$results")" "imgcls fetch" \
    "curl -Z --parallel-max $PARALLEL" "$(rate imgcls)" "$(rate curl)" images/s ">=0.8" "$(speedup imgcls curl)"
done
results=$fast

for _ in $(seq "$ROUNDS"); do
  once imgcls_resize "$bin/imgcls" fetch "$out/manifest" --workspace "$results/ws" --quiet --concurrency "$PARALLEL" \
    --per-host "$PARALLEL" --resize keep-ratio --size 256 --discard-originals
  resized_ok=$(sqlite3 "$results/ws/catalog.sqlite" "select count(*) from items where status = 'ok'")
  once img2dataset env NO_ALBUMENTATIONS_UPDATE=1 "$venv/bin/img2dataset" --url_list "$out/manifest/bench/urls.txt" \
    --input_format txt --output_format files --output_folder "$results/i2d" --resize_mode keep_ratio --image_size 256 \
    --processes_count 2 --thread_count "$PARALLEL" --timeout 10 --retries 0
  i2d_ok=$(find "$results/i2d" -name '*.jpg' 2>/dev/null | wc -l)
done
echo
echo "2. download + resize to 256     images/s   CPU s/1000"
echo "   imgcls fetch --resize        $(rate imgcls_resize)   $(cpu_per_1000 imgcls_resize)   ($resized_ok ok)"
echo "   img2dataset (2 processes)    $(rate img2dataset)   $(cpu_per_1000 img2dataset)   ($i2d_ok images written)"
echo "   ratio imgcls/img2dataset: $(speedup imgcls_resize img2dataset) (goal: at least 5)"
result "fetch, download + resize to 256 ($CORPUS JPEGs)" "imgcls fetch --resize" "img2dataset (2 processes)" \
  "$(rate imgcls_resize)" "$(rate img2dataset)" images/s ">=5" "$(speedup imgcls_resize img2dataset)"
echo "   where imgcls's time goes, per image on one core (the fastest of 3 passes over 300 files):"
"$bin/imgcls-dev" bench-resize "$corpus" --limit 300 --repeats 3 | grep -E "scaled decode|resize to|encode|sha256" | sed 's/^/     /'

mkdir -p "$out/big/bench"
awk -v n="$MANIFEST_LINES" -v port="$PORT" 'BEGIN { for (i = 0; i < n; i++) printf "http://127.0.0.1:%d/missing/%d.jpg\n", port, i }' \
  > "$out/big/bench/urls.txt"
rm -rf "$results/ws-big"
/usr/bin/time -f "%e %M" -o "$out/time.txt" "$bin/imgcls" fetch "$out/big" --workspace "$results/ws-big" --dry-run --quiet >/dev/null
read -r read_s read_rss < "$out/time.txt"
# Then the whole run: every URL goes through the engine (nginx answers 404 fast), all streamed.
/usr/bin/time -f "%e %M" -o "$out/time.txt" "$bin/imgcls" fetch "$out/big" --workspace "$results/ws-big" --quiet \
  --concurrency "$PARALLEL" --per-host "$PARALLEL" >/dev/null
read -r fetch_s fetch_rss < "$out/time.txt"
echo
echo "3. a $MANIFEST_LINES-line manifest (goal: peak RSS under 300 MB)"
echo "   read into the catalog:           $read_s s, peak RSS $((read_rss / 1024)) MB"
echo "   fetched (nginx answers 404):     $fetch_s s, peak RSS $((fetch_rss / 1024)) MB"
result "fetch, $MANIFEST_LINES-line manifest read: peak RSS" "imgcls fetch --dry-run" - "$((read_rss / 1024))" - MB "<300"
result "fetch, $MANIFEST_LINES-line manifest fetched: peak RSS" "imgcls fetch" - "$((fetch_rss / 1024))" - MB "<300"
# 4. Manifests into the catalog. A shard task reads the whole manifest and keeps 1/N: what skipping costs.
rm -rf "$results/ws-skip"
skip_s=$( { /usr/bin/time -f "%e" "$bin/imgcls" fetch "$out/big" --workspace "$results/ws-skip" --dry-run --quiet --shard 1/100 >/dev/null; } 2>&1 | tail -1)
echo
echo "4. manifests into the catalog (goal: at least 100,000 URLs/s on a real list)"
echo "   --shard 1/100 of the $MANIFEST_LINES-line manifest: $skip_s s, $(awk "BEGIN { printf \"%.0f\", $MANIFEST_LINES / $skip_s }") lines/s"
result "fetch --shard 1/100: manifest lines skipped" "imgcls fetch --dry-run --shard 1/100" - \
  "$(awk "BEGIN { printf \"%.0f\", $MANIFEST_LINES / $skip_s }")" - lines/s -
if [ -d "$REAL_LIST" ]; then
  mapfile -t aggregate < <(find "$REAL_LIST" -mindepth 2 -maxdepth 2 -name 'urls_*.txt' | sort)
  best=""
  for _ in $(seq "$ROUNDS"); do
    rm -rf "$results/ws-real"
    s=$( { /usr/bin/time -f "%e" "$bin/imgcls" fetch "${aggregate[@]}" --workspace "$results/ws-real" --dry-run --quiet >/dev/null; } 2>&1 | tail -1)
    if [ -z "$best" ] || awk "BEGIN { exit !($s < $best) }"; then best=$s; fi
  done
  urls=$(sqlite3 "$results/ws-real/catalog.sqlite" "select count(*) from items")
  per_second=$(awk "BEGIN { printf \"%.0f\", $urls / $best }")
  echo "   $REAL_LIST, ${#aggregate[@]} aggregate files: $urls URLs in $best s, $per_second URLs/s"
  result "fetch: a real URL list into the catalog" "imgcls fetch --dry-run" - "$per_second" - URLs/s ">=100000"
else
  echo "   (no $REAL_LIST: clone nsfw_data_source_urls into manifests/ for the real-list figure)"
fi
