#!/usr/bin/env bash
# Model-assisted curation per backbone (issue 27), side by side in one run on one set: Tux Paint's stamp categories
# (scripts/tuxpaint-set.sh, 7 classes) with 5% of the labels flipped (seeded: each flipped file moved to another,
# random class's folder) and 20 foreign pictures planted, a few per class: 12 landscape photographs (endless-sky-data,
# a Debian package) and 8 handwritten digits (scikit-learn's copy of the UCI digits, 8x8 scans drawn at 64 px).
# For each backbone (lite2-onnx: EfficientNet-Lite2 exported to ONNX with its real weights and imported), and for
# combinations side by side, one `imgcls curate --label-issues --off-topic --backbone ...` on the
# same workspace (each backbone's features cached once in it), scored against what was flipped and planted:
#   label issues: precision, recall and F1 over the flipped files (the planted pictures are left out of both sides:
#                 they are off-topic, not mislabelled);
#   off-topic:    planted pictures flagged (photographs and digits apart), and Tux Paint's own pictures flagged.
# Environment: BACKBONES (the list to compare, space-separated; each may be a comma-separated combination),
#              FLIP (0.05), SEED (1).
source "$(dirname "$0")/bench-lib.sh"
BACKBONES=${BACKBONES:-efficientnet-lite0 open-nsfw efficientnet-lite2 lite2-onnx efficientnet-lite0,open-nsfw \
  efficientnet-lite0,efficientnet-lite2 efficientnet-lite0,efficientnet-lite2,open-nsfw}
FLIP=${FLIP:-0.05}
SEED=${SEED:-1}
scripts/setup.sh python3-venv python3-pip
bench_build imgcls
bench_backbone >/dev/null
out=$(pwd)/bench-data/assist-backbones
mkdir -p "$out"
tuxpaint=bench-data/tuxpaint/images
[ -d "$tuxpaint" ] || scripts/tuxpaint-set.sh "$tuxpaint" >/dev/null
bench_venv sklearn scikit-learn numpy
for name in open-nsfw efficientnet-lite2; do
  "$bin/imgcls" backbone list | grep -q "^$name .*safetensors" || "$bin/imgcls" backbone install "$name"
done
if [[ "$BACKBONES" == *lite2-onnx* ]] && ! "$bin/imgcls" backbone list | grep -q "^lite2-onnx "; then
  imported=bench-data/onnx-full/efficientnet-lite2.onnx
  [ -f "$imported" ] || bash scripts/onnx-reference.sh export-lite lite2 "$imported"
  "$bin/imgcls" backbone import "$imported" --name lite2-onnx --range 255 --mean 127,127,127 --std 128,128,128 >/dev/null
fi

# The photographs: endless-sky-data's landscapes (apt-get download + dpkg -x, no install).
landscapes=$out/landscapes
if [ ! -d "$landscapes" ]; then
  work=$(mktemp -d)
  (cd "$work" && { apt-get download -q endless-sky-data >/dev/null 2>&1 || { apt-get update -qq && apt-get download -q endless-sky-data >/dev/null; }; } \
    && dpkg -x ./*.deb x)
  mkdir -p "$landscapes" && find "$work/x" -path '*images/land/*' -iname '*.jpg' -exec cp {} "$landscapes/" \;
  rm -rf "$work"
fi

set=$out/set
rm -rf "$set" && cp -r "$tuxpaint" "$set"
"$venv/bin/python" - "$set" "$landscapes" "$FLIP" "$SEED" "$out/truth.json" <<'PY'
import gzip, json, os, random, struct, sys, zlib
import sklearn.datasets
root, landscapes, flip, seed, truth_file = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rng = random.Random(seed)
labels = sorted(os.listdir(root))
files = sorted(f"{label}/{name}" for label in labels for name in os.listdir(f"{root}/{label}"))
flipped = []
for path in rng.sample(files, round(len(files) * flip)):
    label, name = path.split("/")
    other = rng.choice([l for l in labels if l != label])
    os.rename(f"{root}/{path}", f"{root}/{other}/{name}")
    flipped.append(f"{other}/{name}")

def png(width, height, rows):
    raw = b"".join(b"\0" + bytes(row) for row in rows)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

planted = []
photos = sorted(os.listdir(landscapes))
for i, name in enumerate(rng.sample(photos, 12)):
    target = f"{labels[i % len(labels)]}/planted-photo-{i}.jpg"
    with open(f"{landscapes}/{name}", "rb") as source, open(f"{root}/{target}", "wb") as out:
        out.write(source.read())
    planted.append(target)
digits = sklearn.datasets.load_digits()
for i, index in enumerate(rng.sample(range(len(digits.images)), 8)):
    image = digits.images[index]  # 8x8, ink 0-16: drawn dark on white, each cell 8x8 pixels
    rows = [[255 - int(image[y // 8][x // 8] * 255 / 16) for x in range(64)] for y in range(64)]
    target = f"{labels[(i + 12) % len(labels)]}/planted-digit-{i}.png"
    with open(f"{root}/{target}", "wb") as out:
        out.write(png(64, 64, rows))
    planted.append(target)
json.dump({"flipped": flipped, "planted": planted, "images": len(files) + len(planted)}, open(truth_file, "w"))
print(f"{len(files)} Tux Paint pictures in {len(labels)} classes, {len(flipped)} labels flipped, "
      f"{len(planted)} foreign pictures planted (12 photographs, 8 digits)")
PY

ws=$out/ws
rm -rf "$ws"
lines=()
"$bin/imgcls" curate --from "$set" --workspace "$ws" --quiet >/dev/null
printf "\n%-34s %9s %7s %6s %6s   %-37s %8s %8s\n" "backbone(s)" "precision" "recall" "F1" "issues" "off-topic: planted flagged" "others" "seconds"
for backbones in $BACKBONES; do
  # The first run of a backbone computes its features (cached for the next); the time is the first run's, features
  # included (the pass's own "seconds").
  "$bin/imgcls" curate --workspace "$ws" --label-issues --off-topic --backbone "$backbones" --json --quiet > "$out/$backbones.json"
  scores=$("$venv/bin/python" - "$out/$backbones.json" "$out/truth.json" "$backbones" <<'PY'
import json, sys
assist = json.load(open(sys.argv[1]))["assist"]
truth = json.load(open(sys.argv[2]))
def relative(found): return ["/".join(f["image"]["source"].split("/")[-2:]) for f in found]
planted, flipped = set(truth["planted"]), set(truth["flipped"])
issues = [p for p in relative(assist["labelIssues"]["found"]) if p not in planted]
hits = sum(1 for p in issues if p in flipped)
precision, recall = hits / max(len(issues), 1), hits / len(flipped)
f1 = 2 * precision * recall / max(precision + recall, 1e-9)
off = relative(assist["offTopic"]["found"])
photos = sum(1 for p in off if p in planted and "photo" in p)
digits = sum(1 for p in off if p in planted and "digit" in p)
own = sum(1 for p in off if p not in planted)
print(f"{sys.argv[3]:34} {precision:9.3f} {recall:7.3f} {f1:6.3f} {len(issues):6d}   "
      f"{photos + digits:2d}/20 ({photos}/12 photos, {digits}/8 digits) {own:8d} {assist['seconds']:8.1f}")
print(f"f1 {f1:.3f}\nplanted {photos + digits}\nothers {own}")
PY
)
  head -n 1 <<< "$scores"
  lines+=("$backbones"$'\t'"$(value f1 <<< "$scores")"$'\t'"$(value planted <<< "$scores")"$'\t'"$(value others <<< "$scores")")
done
# One RESULT line per backbone (no peer: the backbones are the comparison).
for line in "${lines[@]}"; do
  IFS=$'\t' read -r backbones f1 planted others <<< "$line"
  result "label issues F1, $backbones" "curate --label-issues --backbone $backbones" - "$f1" - F1 -
  result "off-topic planted found of 20, $backbones" "curate --off-topic --backbone $backbones" - "$planted" - pictures -
  result "off-topic other pictures flagged, $backbones" "curate --off-topic --backbone $backbones" - "$others" - pictures -
done
