#!/usr/bin/env bash
# Training benchmark: the same network (imgcls's default small residual network), batch size, input size and
# thread count, trained in imgcls (its direct loops and OpenBLAS) and in PyTorch (from PyPI, run on the CPU,
# installed into a venv here), side by side in one run on random batches (the engines alone: no image loading
# on either side).
# Prints training images/s of both, best of alternating rounds (this machine is shared and noisy), and the
# ratio (goal: at least 1.0).
# Environment: INPUT (32), BATCH (64), WIDTH (16), BLOCKS (2), THREADS (2), STEPS (20), ROUNDS (5).
source "$(dirname "$0")/bench-lib.sh"
INPUT=${INPUT:-32}; BATCH=${BATCH:-64}; WIDTH=${WIDTH:-16}; BLOCKS=${BLOCKS:-2}; THREADS=${THREADS:-2}; STEPS=${STEPS:-20}; ROUNDS=${ROUNDS:-5}
scripts/setup.sh python3-venv
bench_build imgcls-dev
bench_venv torch torch numpy safetensors  # torch runs on the CPU; the wheel is large

cat > bench-data/torch_train_bench.py <<'PY'
# The twin of imgcls's `resnet` architecture (Sources/Engine/Networks/ResidualNetwork.swift): stem conv-BN-ReLU (stride 2 from 64
# px), three stages of basic residual blocks (widths w, 2w, 4w; the first block of stages 2 and 3 has stride 2
# and a 1x1 conv-BN shortcut), global average pooling, dropout 0.2, a linear head; AdamW (lr 1e-3, weight decay
# 1e-4), cross-entropy with label smoothing 0.1.
import sys, time, torch, torch.nn as nn
size, batch, width, blocks, threads, steps, memory_format = sys.argv[1:8]
size, batch, width, blocks, threads, steps = map(int, (size, batch, width, blocks, threads, steps))
torch.set_num_threads(threads)
torch.manual_seed(1)

def conv_bn(cin, cout, stride, k=3):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5)]

class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(*conv_bn(cin, cout, stride), nn.ReLU(), *conv_bn(cout, cout, 1))
        self.shortcut = nn.Sequential(*conv_bn(cin, cout, stride, k=1)) if stride != 1 or cin != cout else nn.Identity()
    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))

layers = [*conv_bn(3, width, 2 if size >= 64 else 1), nn.ReLU()]
channels = width
for stage, w in enumerate([width, 2 * width, 4 * width]):
    for b in range(blocks):
        layers.append(Block(channels, w, 2 if stage > 0 and b == 0 else 1))
        channels = w
model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(4 * width, 10))
fmt = torch.channels_last if memory_format == "channels_last" else torch.contiguous_format
model = model.to(memory_format=fmt)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
x = torch.randn(batch, 3, size, size).to(memory_format=fmt)
y = torch.randint(0, 10, (batch,))
model.train()
def step():
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
step(); step()
start = time.perf_counter()
for _ in range(steps):
    step()
elapsed = time.perf_counter() - start
parameters = sum(p.numel() for p in model.parameters())
print(f"{batch * steps / elapsed:.1f} {parameters}")
PY

echo "network: resnet, ${INPUT} px, width ${WIDTH}, ${BLOCKS} blocks/stage, batch ${BATCH}, ${THREADS} threads, ${STEPS} timed steps, best of ${ROUNDS} alternating rounds"
echo "(imgcls: ${THREADS} threads sharing each batch, $("$bin/imgcls-dev" bench-train --describe-engine); PyTorch: torch.set_num_threads(${THREADS}))"
torch_version=$("$venv/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null)
best_swift=0; best_torch=0; best_format=""
for round in $(seq 1 "$ROUNDS"); do
  values=$("$bin/imgcls-dev" bench-train --input-size "$INPUT" --width "$WIDTH" --blocks "$BLOCKS" \
    --batch-size "$BATCH" --threads "$THREADS" --steps "$STEPS" --save bench-data/bench-model.safetensors --values 2>/dev/null)
  swift_rate=$(decimals 1 "$(value images_per_second <<< "$values")")
  line="round $round: imgcls $swift_rate"
  best_swift=$(max "$swift_rate" "$best_swift")
  for format in contiguous channels_last; do
    read -r rate parameters < <("$venv/bin/python" bench-data/torch_train_bench.py "$INPUT" "$BATCH" "$WIDTH" "$BLOCKS" "$THREADS" "$STEPS" "$format")
    line="$line, pytorch ($format) $rate"
    if [ "$(max "$rate" "$best_torch")" != "$best_torch" ]; then best_torch=$rate; best_format=$format; fi
  done
  echo "$line images/s"
done
echo "imgcls: $(value parameters <<< "$values" | cut -d. -f1) parameters; pytorch $torch_version, $parameters parameters"
echo "best: imgcls $best_swift images/s, pytorch $best_torch images/s ($best_format), ratio imgcls/pytorch $(ratio "$best_swift" "$best_torch") (goal: at least 1.0)"

# The model file imgcls wrote, read by Python's safetensors package.
"$venv/bin/python" - bench-data/bench-model.safetensors <<'PY'
import json, sys
from safetensors import safe_open
with safe_open(sys.argv[1], "np") as f:
    metadata = f.metadata()
    tensors = {k: f.get_tensor(k) for k in f.keys()}
print(f"safetensors reads the imgcls model: {len(tensors)} tensors, {sum(t.size for t in tensors.values())} values, "
      f"labels {json.loads(metadata['labels'])[:3]}..., input size {metadata['input_size']}")
PY
result "train, resnet $INPUT px, width $WIDTH, batch $BATCH" "imgcls-dev bench-train" "pytorch ($best_format)" "$best_swift" "$best_torch" \
  images/s ">=1.0"
