#!/usr/bin/env bash
# The imgcls demo: generate sample images (valid ones in every format and the broken kinds real data is full
# of), inspect them, and show the workspace status. Run through `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)
out=demo-data
rm -rf "$out"

echo "== Writing sample images to $out/samples"
"$bin/imgcls-dev" samples "$out/samples"

echo
echo "== imgcls inspect $out/samples"
# Exit status 1 means "some files were rejected", which is the point of these samples.
"$bin/imgcls" inspect "$out/samples" || [ $? -eq 1 ]

echo
echo "== imgcls inspect --json (first lines)"
"$bin/imgcls" inspect --json "$out/samples/photo.jpg" "$out/samples/half.png" || [ $? -eq 1 ]

echo
echo "== imgcls status --workspace $out/workspace"
"$bin/imgcls" status --workspace "$out/workspace"
