"""PyTorch side of bench/tools/io-load.ts: torch.load + load_state_dict of the golden 61 MB CIFAR VGG16-BN
checkpoint, median of 7 runs after a warm-up. Run: /usr/bin/python3 bench/tools/io_load_torch.py"""
import json, os, time
import torch, torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.environ.get("SEAM_SHARED", os.path.join(HERE, "..", "..", "..", "shared")) + "/golden"
VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg(num_classes=100):
    layers, c = [], 3
    for v in VGG16:
        if v == "M": layers.append(nn.MaxPool2d(2, 2))
        else: layers += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]; c = v
    m = nn.Module(); m.features = nn.Sequential(*layers)
    m.classifier = nn.Sequential(nn.Linear(512, 512), nn.ReLU(True), nn.Dropout(), nn.Linear(512, 512), nn.ReLU(True), nn.Dropout(), nn.Linear(512, num_classes))
    return m


def median(fn, runs=7):
    fn(); t = []
    for _ in range(runs):
        t0 = time.perf_counter(); fn(); t.append((time.perf_counter() - t0) * 1000)
    return round(sorted(t)[runs // 2], 1)


path = os.path.join(GOLDEN, "cifar100_vgg16_bn.pt")
model = vgg()
print(json.dumps({
    "torch_load_vgg16_pt_ms": median(lambda: torch.load(path)),
    "torch_load_state_dict_vgg16_ms": median(lambda: model.load_state_dict(torch.load(path))),
    "torch": torch.__version__, "threads": torch.get_num_threads(),
}))
