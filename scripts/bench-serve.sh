#!/usr/bin/env bash
# Serving benchmark and bounded load test, in one run on this machine:
# 1. throughput: images/s served over loopback (/v1/classify, raw JPEG bodies, 32 connections: enough clients to
#    fill batches of 16; micro-batched) against
#    `imgcls predict` on the same images and model (goal: at least 0.8x);
# 2. latency: one connection's p50 against the model's own time for one image (decode + forward, imgcls-dev);
# 3. load: 1, 8 and 32 connections with 10% malformed requests (not an image, truncated, bad JSON, bad base64,
#    wrong content type, broken multipart), each for DURATION seconds (wrk stops by itself): zero 5xx and no
#    socket errors expected, and the server's RSS after warm-up and at the end.
# Models: a from-scratch one (the default 64 px network, trained for one epoch here) and, when the backbone is
# installed (make weights), a head on EfficientNet-Lite0 (224 px). wrk runs on the same 2 cores as the server
# (one wrk thread for the throughput and latency figures, two for the load).
# Environment: DURATION (10), IMAGES (200), ROUNDS (3).
source "$(dirname "$0")/bench-lib.sh"
DURATION=${DURATION:-10}
IMAGES=${IMAGES:-200}
scripts/setup.sh wrk curl bc procps python3
bench_build imgcls imgcls-dev
data=bench-data/serve
if [ ! -d "$data/set" ]; then
  rm -rf "$data"
  "$bin/imgcls-dev" jpeg-corpus --count "$IMAGES" --sizes web "$data/corpus" >/dev/null
  i=0
  for file in "$data"/corpus/*.jpg; do
    label=$([ $((i % 2)) = 0 ] && echo even || echo odd)
    part=$([ $((i % 5)) = 0 ] && echo validation || echo train)
    mkdir -p "$data/set/$part/$label"
    cp "$file" "$data/set/$part/$label/"
    i=$((i + 1))
  done
fi
find "$data/corpus" -name '*.jpg' | sort > "$data/images.txt"
models=(scratch)
[ -f "$data/ws/models/scratch/model.safetensors" ] ||
  "$bin/imgcls" train --workspace "$data/ws" --train "$data/set/train" --validation "$data/set/validation" --name scratch --from-scratch --epochs 1 --quiet >/dev/null
backbone="${XDG_CACHE_HOME:-$HOME/.cache}/imgcls/backbones/efficientnet-lite0.safetensors"
if [ -f "$backbone" ]; then
  models+=(lite0)
  [ -f "$data/ws/models/lite0/model.safetensors" ] ||
    "$bin/imgcls" train --workspace "$data/ws" --train "$data/set/train" --validation "$data/set/validation" --name lite0 \
      --backbone efficientnet-lite0 --mode head --epochs 2 --quiet >/dev/null
else
  echo "(no EfficientNet-Lite0 backbone installed: make weights adds the backbone model to this benchmark)"
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
median_file=$(sort -n <(while read -r f; do echo "$(stat -c %s "$f") $f"; done < "$data/images.txt") | awk '{a[NR]=$2} END {print a[int((NR+1)/2)]}')
echo "$(wc -l < "$data/images.txt") JPEGs (160x120 to 1600x1200, median file $(stat -c %s "$median_file") bytes), 2 threads for the math on both sides"
for model in "${models[@]}"; do
  echo
  echo "== model $model"
  "$bin/imgcls" serve --workspace "$data/ws" --model "$model" --port "$port" --quiet &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "the server did not become ready" >&2; exit 1; }
  # Warm-up: the heaviest load of the run (32 connections, malformed requests too), so RSS is measured after it.
  wrk -t 2 -c 32 -d 3s --timeout 10s -s scripts/load/classify.lua "http://127.0.0.1:$port" -- "$data/images.txt" 0.1 >/dev/null
  rss_warm=$(ps -o rss= -p "$server")
  # Throughput, alternating rounds, best of each. predict: the time of a run on the list 5 times over, less that
  # of a run on one image (model load and exit). Serving: one wrk thread, so the load generator takes as little
  # as it can of the 2 cores that predict has to itself.
  for _ in 1 2 3 4 5; do cat "$data/images.txt"; done > "$data/images5.txt"
  best_predict=0; best_served=0; best_line=""
  for round in $(seq "${ROUNDS:-3}"); do
    one=$(elapsed "$bin/imgcls" predict --workspace "$data/ws" --model "$model" --quiet --jsonl "$median_file")
    all=$(elapsed "$bin/imgcls" predict --workspace "$data/ws" --model "$model" --quiet --jsonl - < "$data/images5.txt")
    predicted=$(awk -v n="$(wc -l < "$data/images5.txt")" -v all="$all" -v one="$one" 'BEGIN { printf "%.1f\n", (n - 1) / (all - one) }')
    served=$(wrk -t 1 -c 32 -d "${DURATION}s" --timeout 10s -s scripts/load/classify.lua "http://127.0.0.1:$port" -- "$data/images.txt" 0)
    served_rate=$(value requests_per_second <<< "$served")
    echo "round $round: imgcls predict $predicted images/s, served $served_rate images/s"
    best_predict=$(max "$predicted" "$best_predict")
    if [ "$(max "$served_rate" "$best_served")" != "$best_served" ]; then best_served=$served_rate; best_line=$(grep '^requests ' <<< "$served"); best_line=${best_line%%, statuses*}; fi
  done
  echo "throughput: served $best_served images/s (32 connections: $best_line), imgcls predict $best_predict images/s, ratio $(ratio "$best_served" "$best_predict") (goal: at least 0.8)"
  result "serve $model, throughput, 32 connections" "imgcls serve" "imgcls predict" "$best_served" "$best_predict" images/s ">=0.8"
  single=$(wrk -t 1 -c 1 -d "${DURATION}s" -s scripts/load/classify.lua "http://127.0.0.1:$port" -- <(echo "$median_file") 0)
  own=$("$bin/imgcls-dev" bench-predict --model "$data/ws/models/$model/model.safetensors" --image "$median_file" --values 2>/dev/null)
  p50=$(decimals 2 "$(value p50_ms <<< "$single")"); own_ms=$(decimals 2 "$(value decode_forward_ms <<< "$own")")
  echo "latency, one connection, the median image: $(grep '^requests ' <<< "$single")"
  echo "  the model's own time for that image: forward $(decimals 2 "$(value forward_ms <<< "$own")") ms, decode + forward $own_ms ms"
  result "serve $model, p50 latency, 1 connection" "imgcls serve" "the model alone" "$p50" "$own_ms" ms -
  errors=0  # 5xx and socket errors over the three loads; "?" when a wrk line does not say
  for connections in 1 8 32; do
    threads=$([ "$connections" = 1 ] && echo 1 || echo 2)
    load=$(wrk -t "$threads" -c "$connections" -d "${DURATION}s" --timeout 10s -s scripts/load/classify.lua "http://127.0.0.1:$port" -- "$data/images.txt" 0.1) || true
    echo "load, $connections connections, 10% malformed: $(grep '^requests ' <<< "$load" || echo "no summary")"
    fivexx=$(value errors_5xx <<< "$load") && sockets=$(value socket_errors <<< "$load") && [ "$errors" != "?" ] \
      && errors=$((errors + fivexx + sockets)) || errors="?"
  done
  result "serve $model, load 1/8/32 conn., 10% bad" "imgcls serve" - "$errors" - "5xx+socket errors" "=0"
  echo "server RSS: $((rss_warm / 1024)) MB after warm-up, $(( $(ps -o rss= -p "$server") / 1024 )) MB at the end"
  kill -TERM "$server"; wait "$server" || true
done
