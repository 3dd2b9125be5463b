#!/usr/bin/env bash
# Real pictures from Debian packages, for benchmarks that need JPEGs with the detail of real ones: the distinct
# JPEG wallpapers (photographs and renders, 1280x1024 to 5120x2880) of plasma-workspace-wallpapers,
# ukui-wallpapers and lomiri-wallpapers, unpacked with apt-get download + dpkg -x, no install. 27 files.
# Usage: wallpaper-photos.sh OUT
set -euo pipefail
out=${1:?usage: wallpaper-photos.sh OUT}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packages=(plasma-workspace-wallpapers ukui-wallpapers lomiri-wallpapers)
(cd "$work" && apt-get download -q "${packages[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get download -q "${packages[@]}" >/dev/null; })
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/x"; done
rm -rf "$out" && mkdir -p "$out"
# Sizes of one wallpaper are symlinks to one file: keep each distinct file once, named by its path.
(cd "$work/x" && find -L . -iname '*.jpg' -size +200k | sed 's|^\./||' | sort) | while read -r file; do
  sum=$(sha256sum "$work/x/$file" | cut -c1-16)
  [ -e "$work/seen-$sum" ] && continue
  touch "$work/seen-$sum"
  cp -L "$work/x/$file" "$out/$(echo "$file" | tr '/ ' '__')"
done
echo "$(ls "$out" | wc -l) wallpapers in $out"
