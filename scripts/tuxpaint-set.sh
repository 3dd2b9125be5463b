#!/usr/bin/env bash
# A real multi-class picture set from a Debian package: Tux Paint's stamps (tuxpaint-stamps-default, clip art
# under the GPL), one class per stamp category with at least 35 PNG pictures (animals, food, plants, seasonal,
# symbols, town, vehicles), unpacked with apt-get download + dpkg -x, no install. Usage: tuxpaint-set.sh OUT
set -euo pipefail
out=${1:?usage: tuxpaint-set.sh OUT}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q tuxpaint-stamps-default >/dev/null 2>&1 || { apt-get update -qq && apt-get download -q tuxpaint-stamps-default >/dev/null; })
dpkg -x "$work"/tuxpaint-stamps-default_*.deb "$work/x"
stamps="$work/x/usr/share/tuxpaint/stamps"
rm -rf "$out"
for category in "$stamps"/*/; do
  name=$(basename "$category")
  count=$(find "$category" -name '*.png' | wc -l)
  [ "$count" -ge 35 ] || continue
  mkdir -p "$out/$name"
  # Flatten sub-folders into the file name, so pictures with the same name in two sub-folders both stay.
  find "$category" -name '*.png' | while read -r file; do
    relative=${file#"$category"}
    cp "$file" "$out/$name/${relative//\//-}"
  done
done
find "$out" -name '*.png' | awk -F/ '{print $(NF-1)}' | sort | uniq -c
