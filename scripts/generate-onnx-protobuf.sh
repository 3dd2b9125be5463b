#!/usr/bin/env bash
# Makes Sources/ONNXModel/Generated/onnx.pb.swift, the Swift code of ONNX's onnx.proto, once; the file is committed
# and no build runs this (building swift-protobuf's plugin takes minutes; CI never does it). Run it again only to
# move to another ONNX version: it takes onnx.proto from the pinned `onnx` wheel on PyPI and the plugin from the
# swift-protobuf version that Package.swift names, with Debian's protoc (apt-get install protobuf-compiler).
set -euo pipefail
cd "$(dirname "$0")/.."

onnx_version=1.23.2
onnx_wheel_sha256=c03ecf6b835d136108eeaeeafbd0026fc7b3cf98661409fbc6b63d5a29361348
protobuf_version=1.39.0

command -v protoc >/dev/null || { echo "protoc is missing: apt-get install protobuf-compiler" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pip download -q --no-deps --only-binary :all: --python-version 3.11 --platform manylinux_2_28_x86_64 \
  -d "$work/wheel" "onnx==$onnx_version"
wheel=$(ls "$work"/wheel/onnx-*.whl)
echo "$onnx_wheel_sha256  $wheel" | sha256sum -c --quiet
unzip -q -o "$wheel" onnx/onnx.proto -d "$work"

git clone -q --depth 1 --branch "$protobuf_version" https://github.com/apple/swift-protobuf "$work/swift-protobuf"
swift build -c release --package-path "$work/swift-protobuf" --product protoc-gen-swift
plugin="$work/swift-protobuf/.build/release/protoc-gen-swift"

mkdir -p Sources/ONNXModel/Generated
# Public: the reader's tests build models field by field.
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Public \
  --swift_out=Sources/ONNXModel/Generated -I "$work/onnx" "$work/onnx/onnx.proto"
echo "wrote Sources/ONNXModel/Generated/onnx.pb.swift from onnx $onnx_version's onnx.proto with protoc-gen-swift $protobuf_version"
