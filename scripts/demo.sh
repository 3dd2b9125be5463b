#!/usr/bin/env bash
# The imgcls demo, with no internet needed: a local web server (imgcls-dev serve-folder) serves generated
# images, valid ones in every format and the broken kinds real URL lists are full of; imgcls fetches them
# from URL lists, scrapes a page, imports a folder, curates everything (duplicates, conflicts, flags) and
# splits what it kept into train/validation folders.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)
out=demo-data
rm -rf "$out"
mkdir -p "$out"

echo "== Generating sample images and a web page in $out/site"
"$bin/imgcls-dev" samples "$out/site/images" >/dev/null
cat > "$out/site/gallery.html" <<'HTML'
<html><head><meta property="og:image" content="images/photo.webp"></head><body>
  <img src="images/photo.gif" srcset="images/photo.gif 1x, images/transparent.png 2x">
  <img src="data:image/gif;base64,R0lGOD" data-src="images/photo.bmp">
  <a href="images/rotated-exif6.jpg">full size</a>
</body></html>
HTML
"$bin/imgcls-dev" serve-folder "$out/site" --port-file "$out/port" >/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$out/port" ] && break; sleep 0.1; done
site="http://127.0.0.1:$(cat "$out/port")"

mkdir -p "$out/lists/photos" "$out/lists/broken"
for name in photo.jpg photo.png photo.webp rotated-exif6.jpg named-png-but-jpeg.png; do
  echo "$site/images/$name"
done > "$out/lists/photos/urls.txt"
{
  echo "# files a scraped URL list is full of"
  for name in empty.jpg error-page.jpg huge-header.png bit-flipped.png vector.svg missing.jpg; do
    echo "$site/images/$name"
  done
  echo "not a URL"
} > "$out/lists/broken/urls.txt"

echo
echo "== imgcls fetch $out/lists --validate"
"$bin/imgcls" fetch "$out/lists" --validate --workspace "$out/data"

echo
echo "== The same command again: everything is done already"
"$bin/imgcls" fetch "$out/lists" --validate --workspace "$out/data" | head -2

echo
echo "== imgcls scrape $site/gallery.html --label gallery"
"$bin/imgcls" scrape "$site/gallery.html" --label gallery --workspace "$out/data"

echo
echo "== imgcls import $out/site/more (a folder of images you already have)"
mkdir -p "$out/site/more/scenes" "$out/site/more/patterns"
"$bin/imgcls-dev" curate-corpus "$out/corpus" --count 40 --planted 8 >/dev/null
cp "$out"/corpus/a/* "$out/site/more/scenes/"
cp "$out"/corpus/b/* "$out/site/more/patterns/"
"$bin/imgcls" import "$out/site/more" --workspace "$out/data"

echo
echo "== imgcls curate (duplicates, near duplicates, label conflicts, quality flags)"
"$bin/imgcls" curate --workspace "$out/data"

echo
echo "== imgcls split --ratio 0.75,0.25"
"$bin/imgcls" split --ratio 0.75,0.25 --min-class 3 --workspace "$out/data"

echo
echo "== imgcls status"
"$bin/imgcls" status --workspace "$out/data"

echo
echo "== imgcls inspect $out/data/raw (what was stored; summary line)"
"$bin/imgcls" inspect "$out/data/raw" | tail -1
