#!/usr/bin/env bash
# The two kernel libraries Debian ships for CNN inference, on EfficientNet-Lite0's convolution shapes (stem, 1x1
# expansion and projection, depthwise, the 1280-channel head), one image, one thread each (imgcls runs a batch
# image by image, a thread per image): oneDNN 2.6 (libdnnl-dev, what imgcls uses) and XNNPACK's 2022 snapshot
# (libxnnpack-dev), both NHWC f32 with clip(0, 6) fused, weights prepared once, best of 0.5 s of repeats. This is the
# measurement behind the choice of oneDNN (README: Inference kernels); not part of `make bench` (no peer tool).
source "$(dirname "$0")/bench-lib.sh"
scripts/setup.sh libdnnl-dev libxnnpack-dev libpthreadpool-dev
cc=$(command -v cc || command -v clang)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cc" -O2 scripts/reference/kernel-libraries/onednn.c -o "$work/onednn" -ldnnl
"$cc" -O2 scripts/reference/kernel-libraries/xnnpack.c -o "$work/xnnpack" -lXNNPACK
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); one thread each"
OMP_NUM_THREADS=1 "$work/onednn"
"$work/xnnpack"
