"""Exports one model of every torchvision classification family to ONNX with random weights and
randomised BatchNorm statistics, with PyTorch's logits beside it, for test/onnx/families.test.ts.

    python scripts/onnx/families.py                 # reduced widths: test/fixtures/onnx/families (committed)
    python scripts/onnx/families.py --full          # torchvision's real sizes at 224x224 (ViT-B/16 at depth 2):
                                                    # test/fixtures/onnx/families-full (git-ignored, ~1.5 GB)
    python scripts/onnx/families.py --only vit,densenet --opsets 11,13,17

Exporter: torch.onnx.export(dynamo=False), the TorchScript exporter, with a dynamic batch axis.
The reduced models keep each family's graph pattern (same module types, blocks, concats, channel
shuffles, attention) at smaller widths: through the constructor's own knobs where torchvision has
them, else by dividing every Conv2d / Linear / BatchNorm2d width by one factor (`slim`).
The input is a formula both sides compute exactly (no input file): x[i] = ((i*7919) % 251) / 125.5 - 1
over the flattened [2, 3, S, S] tensor. Needs torch, torchvision, onnx, onnxruntime (not project dependencies).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from _torch import import_torchvision, write_pb  # noqa: E402

tv = import_torchvision()
from torchvision.models import convnext, efficientnet, regnet, vision_transformer  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLASSES = 10


def formula_input(shape):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.int64)
    return (((i * 7919) % 251) / 125.5 - 1.0).astype(np.float32).reshape(shape)


def slim(model, f, keep_out=()):
    """Divides the width of every Conv2d / Linear / BatchNorm2d by f (3 input channels and the
    classes stay); grouped convs keep as many groups as still divide their channels."""
    for parent in list(model.modules()):
        for name, m in list(parent.named_children()):
            if isinstance(m, nn.Conv2d):
                cin = m.in_channels if m.in_channels == 3 else m.in_channels // f
                cout = m.out_channels if m in keep_out else m.out_channels // f
                groups = cin if m.groups == m.in_channels == m.out_channels else math.gcd(m.groups, math.gcd(cin, cout))
                setattr(parent, name, nn.Conv2d(cin, cout, m.kernel_size, m.stride, m.padding, m.dilation, groups, m.bias is not None))
            elif isinstance(m, nn.Linear):
                out = m.out_features if m.out_features == CLASSES else m.out_features // f
                setattr(parent, name, nn.Linear(m.in_features // f, out, m.bias is not None))
            elif isinstance(m, nn.BatchNorm2d):
                setattr(parent, name, nn.BatchNorm2d(m.num_features // f, m.eps, m.momentum))
    return model


def efficientnet_small(v2):
    MB, Fused = efficientnet.MBConvConfig, efficientnet.FusedMBConvConfig
    if v2:
        setting = [Fused(1, 3, 1, 8, 8, 1), Fused(4, 3, 2, 8, 16, 2), MB(4, 3, 2, 16, 24, 1, 1.0, 1.0), MB(6, 3, 1, 24, 32, 2, 1.0, 1.0)]
        return efficientnet.EfficientNet(setting, dropout=0.2, num_classes=CLASSES, last_channel=128)
    setting, last = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.5)
    return efficientnet.EfficientNet(setting, dropout=0.2, num_classes=CLASSES, last_channel=last)


def reduced_families():
    """name -> (builder, input size[, lowest opset the exporter can write it at])"""
    m = tv.models
    sq = lambda: m.squeezenet1_1(num_classes=CLASSES)  # noqa: E731
    return {
        "alexnet": (lambda: slim(m.alexnet(num_classes=CLASSES), 32), 224),
        "vgg11_bn": (lambda: slim(m.vgg11_bn(num_classes=CLASSES), 32), 224),
        "resnet18": (lambda: slim(m.resnet18(num_classes=CLASSES), 16), 64),
        "resnext50_32x4d": (lambda: slim(m.resnext50_32x4d(num_classes=CLASSES), 16), 64),
        "wide_resnet50_2": (lambda: slim(m.wide_resnet50_2(num_classes=CLASSES), 32), 64),
        "squeezenet1_1": (lambda: (lambda s: slim(s, 4, keep_out=(s.classifier[1],)))(sq()), 64),
        "densenet": (lambda: m.DenseNet(4, (3, 6, 12, 8), 8, bn_size=2, num_classes=CLASSES), 64),
        "inception_v3": (lambda: slim(m.inception_v3(num_classes=CLASSES, aux_logits=False, init_weights=True), 16), 80),
        "googlenet": (lambda: slim(m.googlenet(num_classes=CLASSES, aux_logits=False, init_weights=True), 8), 64),
        "shufflenet_v2": (lambda: m.ShuffleNetV2([2, 4, 2], [8, 16, 32, 64, 128], num_classes=CLASSES), 64),
        "mobilenet_v2": (lambda: slim(m.mobilenet_v2(width_mult=0.25, num_classes=CLASSES), 4), 64),
        "mobilenet_v3_small": (lambda: slim(m.mobilenet_v3_small(width_mult=0.25, num_classes=CLASSES), 2), 64),
        "mobilenet_v3_large": (lambda: slim(m.mobilenet_v3_large(width_mult=0.25, num_classes=CLASSES), 4), 64),
        "mnasnet": (lambda: slim(m.MNASNet(0.5, num_classes=CLASSES), 4), 64),
        "efficientnet_b0": (lambda: slim(efficientnet_small(False), 2), 64),
        "efficientnet_v2": (lambda: efficientnet_small(True), 64),
        "regnet_y": (lambda: regnet.RegNet(regnet.BlockParams.from_init_params(6, 16, 8.0, 2.0, 8, se_ratio=0.25),
                                           num_classes=CLASSES, stem_width=16), 64),
        "regnet_x": (lambda: regnet.RegNet(regnet.BlockParams.from_init_params(6, 16, 8.0, 2.0, 8), num_classes=CLASSES, stem_width=16), 64),
        "convnext": (lambda: convnext.ConvNeXt([convnext.CNBlockConfig(8, 16, 1), convnext.CNBlockConfig(16, 32, 1),
                                                convnext.CNBlockConfig(32, 64, 2), convnext.CNBlockConfig(64, None, 1)],
                                               num_classes=CLASSES), 64),
        # torch exports nn.MultiheadAttention through scaled_dot_product_attention, which needs opset 14
        "vit_b_16": (lambda: vision_transformer.VisionTransformer(64, 16, 2, 4, 64, 128, num_classes=CLASSES), 64, 14),
    }


def full_families():
    m = tv.models
    vit = lambda: vision_transformer.VisionTransformer(224, 16, 2, 12, 768, 3072)  # noqa: E731  ViT-B/16, depth 2
    names = ["alexnet", "vgg11_bn", "resnet18", "resnext50_32x4d", "wide_resnet50_2", "squeezenet1_1", "densenet121", "googlenet",
             "shufflenet_v2_x1_0", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "mnasnet1_0", "efficientnet_b0",
             "efficientnet_v2_s", "regnet_y_400mf", "regnet_x_400mf", "convnext_tiny"]
    out = {n: ((lambda n=n: getattr(m, n)(**({"aux_logits": False, "init_weights": True} if n == "googlenet" else {}))), 224) for n in names}
    out["inception_v3"] = (lambda: m.inception_v3(aux_logits=False, init_weights=True), 299)
    out["vit_b_16"] = (vit, 224, 14)
    return out


def randomise(model, gen):
    """Random BatchNorm statistics and affine parameters; a visible ConvNeXt layer scale; a random ViT class token and head."""
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.normal_(0, 0.2, generator=gen)
                mod.running_var.uniform_(0.5, 2.0, generator=gen)
                mod.weight.uniform_(0.5, 1.5, generator=gen)
                mod.bias.normal_(0, 0.2, generator=gen)
            elif isinstance(mod, nn.Linear) and not mod.weight.any():  # ViT's head starts at zero
                mod.weight.normal_(0, mod.in_features ** -0.5, generator=gen)
            elif isinstance(mod, nn.LayerNorm):
                mod.weight.uniform_(0.5, 1.5, generator=gen)
                mod.bias.normal_(0, 0.2, generator=gen)
        for name, p in model.named_parameters():
            if name.endswith("layer_scale"):
                p.uniform_(0.2, 0.6, generator=gen)
            elif name == "class_token":
                p.normal_(0, 1, generator=gen)


def export(model, size, path, opset):
    x = torch.from_numpy(formula_input([2, 3, size, size]))
    with torch.no_grad():
        logits = model(x).numpy()
    torch.onnx.export(model, (x,), path, opset_version=opset, dynamo=False, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    return x.numpy(), logits


def ort_check(path, x, logits):
    import onnxruntime as ort

    got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    return float(np.linalg.norm(got - logits) / np.linalg.norm(logits))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="torchvision's real sizes (large files, not committed)")
    ap.add_argument("--only", default="", help="comma-separated family names")
    ap.add_argument("--opsets", default="13", help="comma-separated opsets (raised to the family's lowest); other than the default get a .opsetN suffix")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    fams = full_families() if args.full else reduced_families()
    out = args.out or os.path.join(ROOT, "test", "fixtures", "onnx", "families-full" if args.full else "families")
    os.makedirs(out, exist_ok=True)
    only = [s for s in args.only.split(",") if s]
    manifest_path = os.path.join(out, "manifest.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
    for name, spec in fams.items():
        if only and name not in only:
            continue
        build, size, min_opset = (spec + (11,))[:3]
        for opset in sorted({max(int(o), min_opset) for o in args.opsets.split(",")}):
            torch.manual_seed(0)
            gen = torch.Generator().manual_seed(1234)
            model = build().eval()
            randomise(model, gen)
            stem = name if opset == max(13, min_opset) else f"{name}.opset{opset}"
            path = os.path.join(out, f"{stem}.onnx")
            x, logits = export(model, size, path, opset)
            write_pb(os.path.join(out, f"{stem}.logits.pb"), logits, "logits")
            err = ort_check(path, x, logits)
            params = sum(p.numel() for p in model.parameters())
            manifest[stem] = {"family": name, "opset": opset, "input": list(x.shape), "parameters": params, "exporter": "torchscript",
                              "torch": torch.__version__, "ort_rel_err": err}
            print(f"{stem}: {params} parameters, input {list(x.shape)}, {os.path.getsize(path)} bytes, onnxruntime rel err {err:.2e}", flush=True)
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
