#!/usr/bin/env bash
# Real, varied pictures from Debian packages for the semantic-duplicate benchmark: landscape and city photographs
# (endless-sky-data), astronomy photographs (stellarium-data), picture-book photos and drawings (qabcs-data),
# commodity pictures (naev-data), stage backgrounds (scratch), OpenCV's sample photos (opencv-doc), Tux Paint's
# stamps and desktop wallpapers; unpacked with apt-get download + dpkg -x, no install. Files under 8 KB (icons)
# are left out; exact duplicates are left to the benchmark. Usage: photo-corpus.sh OUT
set -euo pipefail
out=${1:?usage: photo-corpus.sh OUT}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packages=(endless-sky-data stellarium-data qabcs-data naev-data scratch opencv-doc tuxpaint-stamps-default
          plasma-workspace-wallpapers ukui-wallpapers lomiri-wallpapers)
(cd "$work" && apt-get download -q "${packages[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get download -q "${packages[@]}" >/dev/null; })
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/x"; done
rm -rf "$out" && mkdir -p "$out"
folders=(usr/share/games/endless-sky/images/land usr/share/stellarium/nebulae/default usr/share/qabcs/abcs/all/pics
         usr/share/naev/dat/gfx/commodity usr/share/scratch/Media/Backgrounds usr/share/doc/opencv-doc/examples/data
         usr/share/tuxpaint/stamps usr/share/wallpapers usr/share/backgrounds)
for folder in "${folders[@]}"; do
  [ -d "$work/x/$folder" ] || continue
  find -L "$work/x/$folder" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) -size +8k | while read -r file; do
    relative=${file#"$work/x/"}
    cp "$file" "$out/${relative//\//_}"
  done
done
echo "$(ls "$out" | wc -l) pictures in $out"
