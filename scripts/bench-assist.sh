#!/usr/bin/env bash
# Model-assisted curation benchmark (issue 15), side by side in one run, both tools on the same 2 cores:
#   1. Label issues: Tux Paint's stamp categories (a real labelled set from a Debian package, scripts/tuxpaint-set.sh)
#      with 5% of the labels flipped (seeded); features from efficientnet-lite0, cached. imgcls's whole pass from the
#      cached features (5-fold cross-validated linear head + confident learning, imgcls-dev label-issue-bench) against
#      cleanlab (PyPI, in a venv): find_label_issues on imgcls's own probabilities (F1), and cleanlab's whole pass
#      from the same features (scikit-learn's StandardScaler + LogisticRegression in cross_val_predict, then
#      find_label_issues). Goal: F1 at least cleanlab's, time below.
#   2. Semantic duplicates: planted crops (2% and 5% per side), 90° and 5° rotations, flips and re-framings of
#      real pictures (PHOTOS: a folder, by default scripts/photo-corpus.sh's) found by curate's semantic pass
#      (candidates by the backbone's cosine, with quarter-turned views, confirmed by local features), by cosine
#      alone and by curate's pHash rule, and the pairs of distinct pictures each would merge, listed with their
#      files and drawn in study-sheets/merged-distinct.jpg (imgcls-dev semantic-study).
#   3. The pair search on 1,000,000 synthetic 1280-wide vectors (imgcls-dev bench-semantic-search).
#   4. Off-topic: where `curate --off-topic` ranks OFFTOPIC (36) foreign pictures filed among a real set's labels:
#      flags (iso-flags-png-320x240) and photographs among Tux Paint's stamp categories, then flags and Tux Paint
#      stamps among two packages' photographs (landscapes and astronomy).
# Environment: PARTS (default "1 2 3 4"), PHOTOS, ORIGINALS (2000), VECTORS (1000000).
source "$(dirname "$0")/bench-lib.sh"
PARTS=${PARTS:-1 2 3 4}
ORIGINALS=${ORIGINALS:-2000}
VECTORS=${VECTORS:-1000000}
OFFTOPIC=${OFFTOPIC:-36}
scripts/setup.sh python3-venv python3-pip
bench_build imgcls imgcls-dev
out=$(pwd)/bench-data/assist
mkdir -p "$out"
bench_backbone >/dev/null

tuxpaint=$out/tuxpaint
[ -d "$tuxpaint" ] || scripts/tuxpaint-set.sh "$tuxpaint" >/dev/null
photos=${PHOTOS:-$out/photos}
if [ -z "${PHOTOS:-}" ] && [ ! -f "$photos/.complete" ]; then scripts/photo-corpus.sh "$photos" && touch "$photos/.complete"; fi

if [[ " $PARTS " == *" 1 "* ]]; then
  bench_venv cleanlab cleanlab scikit-learn numpy
  ws=$out/labels-ws
  [ -f "$ws/catalog.sqlite" ] || "$bin/imgcls" curate --from "$tuxpaint" --workspace "$ws" --quiet >/dev/null
  # Features once (cached in the workspace); the pass below reads them from the cache, as a second run would.
  "$bin/imgcls-dev" label-issue-bench --workspace "$ws" --out "$out/labels" >/dev/null
  "$bin/imgcls-dev" label-issue-bench --workspace "$ws" --out "$out/labels"
  "$venv/bin/python" scripts/reference/label-issues-cleanlab.py "$out/labels" > "$out/labels.json"
  "$venv/bin/python" - "$out/labels.json" "$out/labels/meta.json" <<'PY' | tee "$out/labels.txt"
import json, sys
r, meta = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ours, same, whole = r["imgcls"], r["cleanlabSameProbabilities"]["prune_by_noise_rate"], r["cleanlabWholePass"]
print(f"label issues, {meta['n']} images, {meta['classes']} classes, {sum(1 for _ in open(sys.argv[2].replace('meta.json', 'flipped.txt')) if _.strip() == '1')} flipped:")
print(f"  imgcls (own probabilities)          precision {ours['precision']:.3f} recall {ours['recall']:.3f} F1 {ours['f1']:.3f}")
print(f"  cleanlab (imgcls's probabilities)   precision {same['precision']:.3f} recall {same['recall']:.3f} F1 {same['f1']:.3f}")
print(f"  cleanlab whole pass (sklearn CV)    precision {whole['precision']:.3f} recall {whole['recall']:.3f} F1 {whole['f1']:.3f}")
print(f"  time from cached features: imgcls {meta['imgclsSeconds']:.2f} s, cleanlab + scikit-learn {whole['seconds']:.2f} s: "
      f"{whole['seconds'] / meta['imgclsSeconds']:.1f}x faster; F1 ratio {ours['f1'] / max(whole['f1'], 1e-9):.3f} (vs whole pass), "
      f"{ours['f1'] / max(same['f1'], 1e-9):.3f} (vs same probabilities)")
# The values, for the RESULT lines below.
print(f"f1 {ours['f1']:.3f}\npeer_f1 {whole['f1']:.3f}\nseconds {meta['imgclsSeconds']:.2f}\npeer_seconds {whole['seconds']:.2f}")
PY
  labels=$(cat "$out/labels.txt")
  result "label issues F1" "curate --label-issues" "cleanlab + scikit-learn" "$(value f1 <<< "$labels")" "$(value peer_f1 <<< "$labels")" F1 ">=1"
  # A time: the ratio is how many times faster.
  result "label issues pass" "curate --label-issues" "cleanlab + scikit-learn" "$(value seconds <<< "$labels")" \
    "$(value peer_seconds <<< "$labels")" s ">1" "$(ratio "$(value peer_seconds <<< "$labels")" "$(value seconds <<< "$labels")")"
fi

if [[ " $PARTS " == *" 2 "* ]]; then
  rm -rf "$out/semantic-ws"
  study=$("$bin/imgcls-dev" semantic-study --from "$photos" --originals "$ORIGINALS" --workspace "$out/semantic-ws" --values 2>/dev/null \
    | tee /dev/stderr)
  echo "planted copies found: $(value found_percent <<< "$study")% (pHash rule $(value phash_found_percent <<< "$study")%);" \
    "distinct files merged per 10,000: $(value merged_per_10000 <<< "$study") (pHash rule $(value phash_merged_per_10000 <<< "$study"))"
  result "planted copies found" "curate --semantic-duplicates" "pHash rule" "$(decimals 1 "$(value found_percent <<< "$study")")" \
    "$(decimals 1 "$(value phash_found_percent <<< "$study")")" % ">=95%"
  result "distinct files merged per 10,000" "curate --semantic-duplicates" "pHash rule" "$(decimals 1 "$(value merged_per_10000 <<< "$study")")" \
    "$(decimals 1 "$(value phash_merged_per_10000 <<< "$study")")" pairs "<=1 false" -
fi

if [[ " $PARTS " == *" 3 "* ]]; then
  search=$("$bin/imgcls-dev" bench-semantic-search --vectors "$VECTORS" --values)
  # The issue's goal for 1M vectors: minutes, not hours (at most 10 minutes here).
  result "semantic search, $VECTORS vectors" "curate --semantic-duplicates" - "$(decimals 1 "$(value search_seconds <<< "$search")")" - s "<=600"
fi

if [[ " $PARTS " == *" 4 "* ]]; then
  # The foreign pictures: flags (iso-flags-png-320x240, another package's pictures), photographs of the corpus but
  # Tux Paint's own stamps, and Tux Paint's stamps.
  flags=$out/flags
  if [ ! -d "$flags" ]; then
    work=$(mktemp -d)
    (cd "$work" && { apt-get download -q iso-flags-png-320x240 >/dev/null 2>&1 || { apt-get update -qq && apt-get download -q iso-flags-png-320x240 >/dev/null; }; } && dpkg -x ./*.deb x)
    mkdir -p "$flags" && find "$work/x" -name '*.png' -exec cp {} "$flags/" \;
    rm -rf "$work"
  fi
  half=$((OFFTOPIC / 2))
  # plant_and_rank SET WORKSPACE < FILES: the files dealt round-robin into SET's label folders as planted-N, then
  # curate --off-topic, then where the planted ones rank (the first half and the second apart).
  plant_and_rank() {
    local labels=($(ls "$1")) i=0 file
    while read -r file; do
      cp "$file" "$1/${labels[$((i % ${#labels[@]}))]}/planted-$i.${file##*.}"
      i=$((i + 1))
    done
    rm -rf "$2"
    "$bin/imgcls" curate --from "$1" --workspace "$2" --off-topic --json --quiet > "$2.json"
    python3 - "$2.json" "$OFFTOPIC" "$half" <<'PY'
import json, re, sys
found = json.load(open(sys.argv[1]))["assist"]["offTopic"]["found"]
planted, half = int(sys.argv[2]), int(sys.argv[3])
ranks = [i + 1 for i, f in enumerate(found) if "/planted-" in f["image"]["source"]]
first = [i + 1 for i, f in enumerate(found) if (m := re.search(r"/planted-(\d+)\.", f["image"]["source"])) and int(m.group(1)) < half]
top = sum(1 for r in ranks if r <= planted)
print(f"  {len(found)} flagged; of {planted} planted {len(ranks)} flagged, {top} in the top {planted}; "
      f"first half ranked {first}, second half {[r for r in ranks if r not in first]}; others flagged: {len(found) - len(ranks)}")
PY
  }
  mixed=$out/offtopic-set
  rm -rf "$mixed" && cp -r "$tuxpaint" "$mixed"
  echo "off-topic, Tux Paint's stamps with $half flags and $((OFFTOPIC - half)) photographs planted:"
  { find "$flags" -name '*.png' | sort | awk 'NR % 7 == 1' | head -n "$half"
    find "$photos" -type f \( -iname '*.jpg' -o -iname '*.png' \) -not -name '*tuxpaint*' | sort | awk 'NR % 37 == 1' | head -n "$((OFFTOPIC - half))"
  } | plant_and_rank "$mixed" "$out/offtopic-ws"
  # The other way round: flags and Tux Paint stamps among two packages' photographs as two labels, landscapes and
  # astronomy (not a small class of drawings, such as Scratch's backgrounds, which takes clip art in).
  photoset=$out/offtopic-photos
  rm -rf "$photoset"
  for label in endless-sky stellarium; do
    mkdir -p "$photoset/$label"
    find "$photos" -name "*_${label}_*" -exec cp {} "$photoset/$label/" \;
  done
  echo "off-topic, photographs of two packages with $half flags and $((OFFTOPIC - half)) Tux Paint stamps planted:"
  { find "$flags" -name '*.png' | sort | awk 'NR % 7 == 3' | head -n "$half"
    find "$tuxpaint" -type f | sort | awk 'NR % 19 == 1' | head -n "$((OFFTOPIC - half))"
  } | plant_and_rank "$photoset" "$out/offtopic-photos-ws"
fi
