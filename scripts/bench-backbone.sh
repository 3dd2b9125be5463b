#!/usr/bin/env bash
# Transfer learning on a real picture set (Tux Paint's stamps, scripts/tuxpaint-set.sh: 7 classes, ~680 PNGs),
# measured side by side in one run, all on the same curated 80/20 split (seed 1):
#   1. the from-scratch model (imgcls train --from-scratch --augment, 64 px);
#   2. head mode on EfficientNet-Lite0: the backbone frozen, features cached, a Dense(512) head (and a linear head);
#   3. scikit-learn's logistic regression on the same cached features (standardised), as a reference;
#   4. fine-tuning the last 2 blocks from the head model, 5 epochs;
#   5. the same Dense(512) head on other backbones: open_nsfw (a moderation network, `backbone install open-nsfw`)
#      and an imported ONNX network (EfficientNet-Lite2 exported from PyTorch with its real weights, imported with
#      `backbone import`);
#   6. the imported network fine-tuned (its last 2 blocks, from its head model);
#   7. the same head on two backbones side by side (`--backbone a,b`: their cached features concatenated):
#      EfficientNet-Lite0 with open_nsfw, and with the imported Lite2.
# Prints validation accuracy and wall time of each. Environment: EPOCHS (30), FINETUNE_EPOCHS (5).
source "$(dirname "$0")/bench-lib.sh"
EPOCHS=${EPOCHS:-30}; FINETUNE_EPOCHS=${FINETUNE_EPOCHS:-5}
scripts/setup.sh python3-venv python3-pip  # pip: imgcls backbone install downloads the weights with python3 -m pip
bench_build imgcls
bench_backbone
out=bench-data/tuxpaint
[ -d "$out/images" ] || scripts/tuxpaint-set.sh "$out/images"
ws=$out/ws
rm -rf "$ws"
"$bin/imgcls" curate --from "$out/images" --workspace "$ws" --quiet >/dev/null
"$bin/imgcls" split --workspace "$ws" --seed 1 --quiet | grep -E "^\(all\)|leakage"
bench_venv sklearn scikit-learn numpy

# A model's validation accuracy, from evaluate's JSON.
accuracy() { "$bin/imgcls" evaluate --workspace "$ws" --model "$1" --json --quiet | "$venv/bin/python" -c "import json,sys; print('%.4f' % json.load(sys.stdin)['accuracy'])"; }

t_scratch=$(seconds "$bin/imgcls" train --workspace "$ws" --name scratch --from-scratch --epochs "$EPOCHS" --augment --quiet) || true
t_head_first=$(seconds "$bin/imgcls" train --workspace "$ws" --name head --backbone efficientnet-lite0 --epochs "$EPOCHS" --quiet) || true
t_head_again=$(seconds "$bin/imgcls" train --workspace "$ws" --name head --backbone efficientnet-lite0 --epochs "$EPOCHS" --quiet) || true
t_linear=$(seconds "$bin/imgcls" train --workspace "$ws" --name linear --backbone efficientnet-lite0 --head linear --epochs "$EPOCHS" --quiet) || true
sklearn=$("$venv/bin/python" - "$ws" <<'PY'
# Logistic regression on the features imgcls cached (read by each image's sha256), standardised.
import glob, hashlib, os, sys, time
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
ws = sys.argv[1]
def load(split):
    X, y = [], []
    labels = sorted(os.listdir(f"{ws}/{split}"))
    for label in labels:
        for path in sorted(glob.glob(f"{ws}/{split}/{label}/*")):
            sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
            X.append(np.fromfile(f"{ws}/features/efficientnet-lite0/224/{sha[:2]}/{sha}.f32", dtype="<f4"))
            y.append(label)
    return np.array(X), np.array(y)
X, y = load("train"); Xv, yv = load("validation")
started = time.perf_counter()
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(X, y)
print("%.4f %.1f" % ((model.predict(Xv) == yv).mean(), time.perf_counter() - started))
PY
)
t_finetune=$(seconds "$bin/imgcls" train --workspace "$ws" --name finetune --backbone efficientnet-lite0 --mode finetune --from head \
             --unfreeze 2 --epochs "$FINETUNE_EPOCHS" --quiet) || true
"$bin/imgcls" backbone list | grep -q "^open-nsfw .*safetensors" || "$bin/imgcls" backbone install open-nsfw
imported=bench-data/onnx-full/efficientnet-lite2.onnx
[ -f "$imported" ] || bash scripts/onnx-reference.sh export-lite lite2 "$imported"
# EfficientNet-Lite's input convention: (x - 127) / 128 on 0-255 values.
"$bin/imgcls" backbone import "$imported" --name lite2-onnx --range 255 --mean 127,127,127 --std 128,128,128 --replace >/dev/null
t_nsfw=$(seconds "$bin/imgcls" train --workspace "$ws" --name nsfw-head --backbone open-nsfw --epochs "$EPOCHS" --quiet) || true
t_imported=$(seconds "$bin/imgcls" train --workspace "$ws" --name imported-head --backbone lite2-onnx --epochs "$EPOCHS" --quiet) || true
t_imported_tuned=$(seconds "$bin/imgcls" train --workspace "$ws" --name imported-tuned --backbone lite2-onnx --mode finetune --from imported-head \
                   --unfreeze 2 --epochs "$FINETUNE_EPOCHS" --quiet) || true
# Both backbones' features are cached by now: these times are the heads' and the concatenation's.
t_pair_nsfw=$(seconds "$bin/imgcls" train --workspace "$ws" --name pair-nsfw --backbone efficientnet-lite0,open-nsfw --epochs "$EPOCHS" --quiet) || true
t_pair_lite2=$(seconds "$bin/imgcls" train --workspace "$ws" --name pair-lite2 --backbone efficientnet-lite0,lite2-onnx --epochs "$EPOCHS" --quiet) || true
# One evaluation that fails leaves its cell empty ("-"), not the whole table.
acc_nsfw=$(accuracy nsfw-head) || acc_nsfw=-; acc_imported=$(accuracy imported-head) || acc_imported=-
acc_imported_tuned=$(accuracy imported-tuned) || acc_imported_tuned=-
acc_pair_nsfw=$(accuracy pair-nsfw) || acc_pair_nsfw=-; acc_pair_lite2=$(accuracy pair-lite2) || acc_pair_lite2=-
acc_scratch=$(accuracy scratch) || acc_scratch=-; acc_head=$(accuracy head) || acc_head=-
acc_linear=$(accuracy linear) || acc_linear=-; acc_finetune=$(accuracy finetune) || acc_finetune=-
echo
echo "validation accuracy on $(find "$ws/validation" -type f | wc -l) images (7 classes), wall time on this machine's 2 cores:"
printf "%-58s %8s %8s\n" "model" "accuracy" "seconds"
printf "%-58s %8s %8s\n" "from scratch (default resnet, 64 px, --augment, $EPOCHS epochs)" "$acc_scratch" "$t_scratch"
printf "%-58s %8s %8s\n" "efficientnet-lite0 head, Dense(512) ($EPOCHS epochs, first run)" "$acc_head" "$t_head_first"
printf "%-58s %8s %8s\n" "  the same again (features from the cache)" "" "$t_head_again"
printf "%-58s %8s %8s\n" "efficientnet-lite0 head, linear" "$acc_linear" "$t_linear"
printf "%-58s %8s %8s\n" "scikit-learn logistic regression on the same features" "${sklearn% *}" "${sklearn#* } (fit)"
printf "%-58s %8s %8s\n" "efficientnet-lite0 fine-tuned, last 2 blocks ($FINETUNE_EPOCHS epochs)" "$acc_finetune" "$t_finetune"
printf "%-58s %8s %8s\n" "open-nsfw head, Dense(512) ($EPOCHS epochs, first run)" "$acc_nsfw" "$t_nsfw"
printf "%-58s %8s %8s\n" "imported ONNX EfficientNet-Lite2 head, Dense(512)" "$acc_imported" "$t_imported"
printf "%-58s %8s %8s\n" "  fine-tuned, last 2 blocks ($FINETUNE_EPOCHS epochs)" "$acc_imported_tuned" "$t_imported_tuned"
printf "%-58s %8s %8s\n" "efficientnet-lite0 + open-nsfw side by side, Dense(512)" "$acc_pair_nsfw" "$t_pair_nsfw (cached)"
printf "%-58s %8s %8s\n" "efficientnet-lite0 + imported Lite2 side by side, Dense(512)" "$acc_pair_lite2" "$t_pair_lite2 (cached)"
# One RESULT line per model: no goals here; the backbone models are set against the logistic regression on the same
# features.
logistic=${sklearn% *}
result "backbone, from scratch (64 px)" "imgcls train --from-scratch --augment" - "$acc_scratch" - accuracy -
result "backbone, lite0 head, Dense(512)" "imgcls train --backbone" "scikit-learn logistic regression" "$acc_head" "$logistic" accuracy -
result "backbone, lite0 head, linear" "imgcls train --head linear" "scikit-learn logistic regression" "$acc_linear" "$logistic" accuracy -
result "backbone, lite0 fine-tuned, last 2 blocks" "imgcls train --mode finetune" "scikit-learn logistic regression" \
  "$acc_finetune" "$logistic" accuracy -
result "backbone, open-nsfw head, Dense(512)" "imgcls train --backbone open-nsfw" "scikit-learn logistic regression (lite0)" "$acc_nsfw" "$logistic" accuracy -
result "backbone, imported ONNX lite2 head" "imgcls train --backbone lite2-onnx" "scikit-learn logistic regression (lite0)" "$acc_imported" "$logistic" accuracy -
result "backbone, imported lite2 fine-tuned, last 2 blocks" "imgcls train --backbone lite2-onnx --mode finetune" \
  "scikit-learn logistic regression (lite0)" "$acc_imported_tuned" "$logistic" accuracy -
result "backbone, lite0 + open-nsfw head" "imgcls train --backbone efficientnet-lite0,open-nsfw" "scikit-learn logistic regression (lite0)" \
  "$acc_pair_nsfw" "$logistic" accuracy -
result "backbone, lite0 + imported lite2 head" "imgcls train --backbone efficientnet-lite0,lite2-onnx" "scikit-learn logistic regression (lite0)" \
  "$acc_pair_lite2" "$logistic" accuracy -
