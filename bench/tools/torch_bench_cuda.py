"""PyTorch + cuDNN anchor for `npm run bench -- --device cuda`: the same workloads as
../shared/anchors/torch_bench.py, on the GPU, in strict FP32 (TF32 off, as seam's CUDA path by default).
Prints one JSON object. Usage: python3 bench/tools/torch_bench_cuda.py [--quick] [--tf32]
The model definitions come from make_golden.py in $SEAM_GOLDEN_DIR (default ../shared/golden)."""
import json, os, sys, time, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
here = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.environ.get('SEAM_GOLDEN_DIR', os.path.join(here, '..', '..', '..', 'shared', 'golden')))
from make_golden import CifarResNet, CifarVGG, VGG16, Bin
tf32 = '--tf32' in sys.argv
torch.backends.cudnn.allow_tf32 = tf32; torch.backends.cuda.matmul.allow_tf32 = tf32
torch.backends.cudnn.benchmark = True; torch.manual_seed(0)
dev = torch.device('cuda')
R = 5 if '--quick' in sys.argv else 15
def med(fn, reps=R, warm=3):
    for _ in range(warm): fn()
    torch.cuda.synchronize(); ts = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); torch.cuda.synchronize(); ts.append(time.perf_counter() - t)
    return float(np.median(ts)) * 1000
def masked(model):
    masks = []
    for mod in model.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            for pn in ('weight', 'bias'):
                if getattr(mod, pn) is not None:
                    m = nn.Parameter(torch.ones_like(getattr(mod, pn))); setattr(mod, pn + '_mask', m); masks.append(m)
            def fwd(x, mod=mod):
                w = mod.weight * Bin.apply(mod.weight_mask); b = None if mod.bias is None else mod.bias * Bin.apply(mod.bias_mask)
                return F.conv2d(x, w, b, mod.stride, mod.padding, mod.dilation, mod.groups) if isinstance(mod, nn.Conv2d) else F.linear(x, w, b)
            mod.forward = fwd
    for p in model.parameters(): p.requires_grad = False
    for m in masks: m.requires_grad = True
    return masks
def seam_step(make, classes, batch):
    model = make().to(dev); model.eval(); masks = masked(model); head = nn.Sequential(nn.ReLU(), nn.Linear(classes, 2)).to(dev)
    opt = torch.optim.Adam([{'params': masks, 'lr': 0.05}, {'params': head.parameters(), 'lr': 0.1}])
    x = torch.randn(batch, 3, 32, 32, device=dev); y = torch.randint(0, 2, (batch,), device=dev)
    def step():
        opt.zero_grad(); out = head(model(x)); r = Bin.apply(torch.cat([m.flatten() for m in masks])).mean()
        loss = F.cross_entropy(out, y) + r; loss.backward(); opt.step()
    return med(step)
def infer(make, batch):
    model = make().to(dev); model.eval(); x = torch.randn(batch, 3, 32, 32, device=dev)
    with torch.no_grad(): return med(lambda: model(x), reps=R * 2)
a = torch.randn(1024, 1024, device=dev); b = torch.randn(1024, 1024, device=dev)
res = {"torch": torch.__version__, "device": torch.cuda.get_device_name(), "tf32": tf32}
res["gemm_1024_gflops_cuda"] = round(2 * 1024 ** 3 / (med(lambda: a @ b) / 1000) / 1e9, 1)
res["seam_step_resnet20_b64_ms_cuda"] = round(seam_step(lambda: CifarResNet([3, 3, 3], 10), 10, 64), 3)
res["seam_step_vgg16_b64_ms_cuda"] = round(seam_step(lambda: CifarVGG(VGG16, 10), 10, 64), 3)
res["infer_resnet20_b16_ms_cuda"] = round(infer(lambda: CifarResNet([3, 3, 3], 10), 16), 3)
res["infer_vgg16_b16_ms_cuda"] = round(infer(lambda: CifarVGG(VGG16, 10), 16), 3)
print(json.dumps(res))
