// Device-tensor checks shared by test/cuda/device.test.ts (emulated driver) and
// test/cuda/device-gpu.test.ts (a real GPU): a small masked CNN runs SeaM steps on 'cpu' and on
// 'cuda' from the same weights, and logits, loss, ratio, mask gradients and updated masks and
// head must agree; plus .to/.cpu round trips, dispose, the caching allocator and device errors.
// Tolerances: the device kernels sum in other orders than the CPU ones (tiled GEMM, im2col
// chunks, tree reductions), so results agree to float32 rounding, not bit for bit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { backward } from '../../src/autograd/backward.js';
import { noGrad } from '../../src/autograd/node.js';
import { deviceMemory, emptyDeviceCache } from '../../src/backend/allocator.js';
import { cudaNative } from '../../src/backend/cuda-native.js';
import { deviceScope } from '../../src/backend/storage.js';
import {
  AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential, manualSeed
} from '../../src/nn/index.js';
import * as ops from '../../src/ops/index.js';
import { Adam, SGD } from '../../src/optim/index.js';
import { attachMasks, maskRatio, seamTrain } from '../../src/seam/masks.js';
import { Tensor, type Device } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { binaryProblem, DataLoader, syntheticSplits, type TransformSpec } from '../../src/data/index.js';
import { CifarResNet } from '../../src/models/cifar-resnet.js';
import { CifarVGG } from '../../src/models/cifar-vgg.js';
import { reengineer } from '../../src/seam/search.js';
import { expectClose } from './cuda-parity.js';

function tinyModel(): { model: Sequential; head: Sequential } {
  manualSeed(7);
  const bn = new BatchNorm2d(4);
  const model = new Sequential(
    new Conv2d(3, 4, 3, { padding: 1, bias: false }), bn, new ReLU(), new MaxPool2d({ kernelSize: 2 }),
    new Conv2d(4, 6, 3, { padding: 1 }), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(6, 5),
  );
  const rng = new Rng(3); // non-trivial running statistics
  bn.runningMean.f32.set(Array.from({ length: 4 }, () => rng.normal() * 0.1));
  bn.runningVar.f32.set(Array.from({ length: 4 }, () => 0.5 + rng.nextFloat()));
  const head = new Sequential(new ReLU(), new Dropout(0.25), new Linear(5, 2));
  (head.layers[1] as Dropout).rng = new Rng(11);
  return { model, head };
}

interface StepRecord {
  logits: Float32Array; loss: number; ratio: number; maskGrads: Float32Array[]; masks: Float32Array[]; head: Float32Array[];
}

const host = (t: Tensor): Float32Array => t.cpu().f32.slice(); // a copy on either device

/** `steps` SeaM steps (CE + alpha * ratio, Adam on masks and head) on `device`. */
function runSteps(device: Device, steps: number): StepRecord[] {
  const { model, head } = tinyModel();
  model.to(device);
  head.to(device);
  const masks = attachMasks(model);
  seamTrain(model);
  head.train();
  const opt = new Adam([{ params: masks.map((m) => m.mask), lr: 0.05 }, { params: head.parameters(), lr: 0.1 }]);
  const rng = new Rng(5);
  const x = Tensor.randn([4, 3, 8, 8], rng).to(device);
  const y = Tensor.ints([0, 1, 1, 0]).to(device);
  const out: StepRecord[] = [];
  for (let s = 0; s < steps; s++) {
    out.push(deviceScope(() => {
      opt.zeroGrad();
      const logits = head.forward(model.forward(x));
      const ratio = maskRatio(masks);
      const loss = ops.add(ops.crossEntropy(logits, y), ops.scale(ratio, 0.5));
      backward(loss);
      const maskGrads = masks.map((m) => host(m.mask.grad!));
      opt.step();
      return { logits: host(logits), loss: loss.item(), ratio: ratio.item(), maskGrads,
        masks: masks.map((m) => host(m.mask)), head: head.parameters().map(host) };
    }));
  }
  x.dispose();
  y.dispose();
  model.to('cpu');
  head.to('cpu');
  opt.zeroGrad();
  return out;
}

export function defineDeviceTests(): void {
  it('a masked CNN SeaM step on cuda matches the cpu: logits, loss, ratio, mask grads, masks, head', () => {
    const cpu = runSteps('cpu', 3);
    const dev = runSteps('cuda', 3);
    cpu.forEach((c, s) => {
      const d = dev[s];
      expectClose(`step ${s} logits`, d.logits, c.logits, 1e-5, 1e-4);
      expect(Math.abs(d.loss - c.loss), `step ${s} loss ${d.loss} vs ${c.loss}`).toBeLessThan(1e-5 + 1e-5 * Math.abs(c.loss));
      expect(d.ratio).toBe(c.ratio);
      c.maskGrads.forEach((g, i) => expectClose(`step ${s} mask ${i} grad`, d.maskGrads[i], g, 1e-6, 1e-3));
      c.masks.forEach((m, i) => expectClose(`step ${s} mask ${i}`, d.masks[i], m, 1e-5, 1e-4));
      c.head.forEach((p, i) => expectClose(`step ${s} head param ${i}`, d.head[i], p, 1e-5, 1e-4));
    });
    // the masks moved: the comparison is not between untouched ones
    expect(cpu[2].masks[0].some((v) => v !== 1)).toBe(true);
  });

  it('device memory stays flat across steps: later steps are served by the cache', () => {
    const { model, head } = tinyModel();
    model.to('cuda');
    head.to('cuda');
    const masks = attachMasks(model);
    const opt = new SGD([...masks.map((m) => m.mask), ...head.parameters()], { lr: 0.01, momentum: 0.9 });
    const x = Tensor.randn([2, 3, 8, 8], new Rng(1)).to('cuda');
    const y = Tensor.ints([1, 0]).to('cuda');
    const step = (): void => deviceScope(() => {
      opt.zeroGrad();
      backward(ops.add(ops.crossEntropy(head.forward(model.forward(x)), y), maskRatio(masks)));
      opt.step();
    });
    step();
    step();
    const after2 = deviceMemory();
    for (let i = 0; i < 3; i++) step();
    const after5 = deviceMemory();
    expect(after5.deviceAllocs, 'no cuMemAlloc after the first steps').toBe(after2.deviceAllocs);
    expect(after5.liveBytes).toBe(after2.liveBytes);
    expect(after5.cacheHits).toBeGreaterThan(after2.cacheHits);
    model.to('cpu');
    head.to('cpu');
    x.dispose();
    y.dispose();
    opt.zeroGrad();
  });

  it('.to / .cpu round trip float and int tensors; Module.to moves parameters in place', () => {
    const a = Tensor.randn([3, 5], new Rng(9));
    const d = a.to('cuda');
    expect(d.device).toBe('cuda');
    expect(a.to('cpu')).toBe(a);
    expect(d.to('cuda')).toBe(d);
    expect(d.cpu().f32).toEqual(a.f32);
    expect(d.cpu()).not.toBe(d.cpu());
    const i = Tensor.ints([-3, 0, 7, 2147483647]);
    expect(i.to('cuda').cpu().i32).toEqual(i.i32);
    expect(ops.reshape(d, [5, 3]).cpu().f32).toEqual(a.f32);
    expect(d.clone().cpu().f32).toEqual(a.f32);
    expect(() => d.f32).toThrow(/cuda.*call \.cpu\(\)/);
    expect(() => d.data).toThrow(/\.cpu\(\)/);
    const lin = new Linear(5, 2);
    const w = lin.weight;
    const before = w.f32.slice();
    lin.to('cuda');
    expect(lin.weight).toBe(w);
    expect(w.device).toBe('cuda');
    expect(lin.device()).toBe('cuda');
    const yd = noGrad(() => lin.forward(d));
    lin.to('cpu');
    expect(w.f32).toEqual(before);
    expectClose('linear on cuda', yd.cpu().f32, noGrad(() => lin.forward(a)).f32, 1e-6, 1e-5);
    // gradients flow back through .to
    const leaf = Tensor.from([1, -2, 3], [3], true);
    backward(ops.sum(ops.scale(leaf.to('cuda'), 2)));
    expect(leaf.grad!.device).toBe('cpu');
    expect(leaf.grad!.toArray()).toEqual([2, 2, 2]);
    // and from a loss on the cpu back through ops on the device
    leaf.grad = null;
    backward(ops.sum(ops.scale(ops.scale(leaf.to('cuda'), 2).to('cpu'), 3)));
    expect(leaf.grad!.toArray()).toEqual([6, 6, 6]);
    for (const t of [d, yd]) t.dispose();
  });

  it('dispose frees: the live buffer count goes back to its baseline', () => {
    emptyDeviceCache();
    const base = deviceMemory();
    const baseNative = cudaNative.cudaLiveBuffers();
    const ts = [Tensor.randn([64], new Rng(1)).to('cuda'), Tensor.ones([7, 7]).to('cuda')];
    const view = ops.reshape(ts[1], [49]);
    expect(deviceMemory().liveBuffers).toBe(base.liveBuffers + 2);
    ts.forEach((t) => t.dispose());
    ts[0].dispose(); // twice is fine
    expect(deviceMemory().liveBuffers, 'a view keeps its buffer alive').toBe(base.liveBuffers + 1);
    expect(view.cpu().toArray()).toEqual(new Array(49).fill(1));
    view.dispose();
    expect(deviceMemory().liveBuffers).toBe(base.liveBuffers);
    expect(deviceMemory().liveBytes).toBe(base.liveBytes);
    expect(() => ts[0].cpu()).toThrow(/disposed/);
    expect(() => ops.relu(ts[0])).toThrow(/relu: input \[64\] was disposed/);
    emptyDeviceCache();
    expect(cudaNative.cudaLiveBuffers()).toBe(baseNative);
    // deviceScope frees what it made and keeps what it returns
    const kept = deviceScope(() => {
      const u = Tensor.ones([10]).to('cuda');
      return ops.scale(ops.relu(u), 3);
    });
    expect(deviceMemory().liveBuffers).toBe(base.liveBuffers + 1);
    expect(kept.toArray()).toEqual(new Array(10).fill(3));
    kept.dispose();
    expect(deviceMemory().liveBuffers).toBe(base.liveBuffers);
  });

  it('a device tensor dropped without dispose() is freed by the finalizer after garbage collection', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await settle(); // garbage tensors of earlier tests go first
    const base = deviceMemory().liveBuffers;
    (() => {
      for (let i = 0; i < 4; i++) Tensor.ones([100]).to('cuda');
    })();
    expect(deviceMemory().liveBuffers, JSON.stringify(deviceMemory())).toBe(base + 4);
    await settle();
    expect(deviceMemory().liveBuffers).toBe(base);
  });

  it('mixing devices in one op is an error naming the op and both devices', () => {
    const c = Tensor.ones([2, 3]);
    const d = Tensor.ones([2, 3]).to('cuda');
    expect(() => ops.add(c, d)).toThrow(/^add: expected all tensors on one device, got a on cpu, b on cuda/);
    expect(() => ops.linear(d, Tensor.ones([4, 3]))).toThrow(/^linear: .*input on cuda, weight on cpu/);
    const conv = new Conv2d(3, 2, 1);
    expect(() => conv.forward(Tensor.ones([1, 3, 2, 2]).to('cuda'))).toThrow(/^conv2d: .*input on cuda, weight on cpu, bias on cpu/);
    expect(() => ops.crossEntropy(d, Tensor.ints([0, 1]))).toThrow(/^crossEntropy: .*logits on cuda, labels on cpu/);
    d.dispose();
  });

  it('batch norm in training mode, mean, matmul, avg pool and host-fallback ops match the cpu', () => {
    const run = (device: Device): Float32Array[] => {
      const x = Tensor.randn([3, 2, 4, 4], new Rng(4), 1, true);
      const bn = new BatchNorm2d(2);
      bn.to(device);
      const xd = x.to(device);
      const y = ops.avgPool2d(bn.forward(xd), { kernelSize: 2 });
      const z = ops.sigmoid(ops.reshape(y, [3, 8]));
      const m = ops.matmul(z, Tensor.ones([8, 2]).to(device));
      backward(ops.mean(m));
      const res = [host(m), host(bn.runningMean), host(bn.runningVar), host(x.grad!), host(bn.weight.grad!)];
      expect(bn.numBatchesTracked.item()).toBe(1);
      return res;
    };
    const c = run('cpu');
    run('cuda').forEach((d, i) => expectClose(`output ${i}`, d, c[i], 1e-5, 1e-4));
  });

  it('eval-mode forward and backward with gradients on (zoo ResNet20 and VGG11) match the cpu', () => {
    // BatchNorm parameters require grad here, so the fused eval kernels must not run on the cpu
    // either; on cuda (no fused kernels) the separate ops run. Both give the same values and grads.
    const run = (make: () => Module, device: Device): Float32Array[] => {
      manualSeed(21);
      const model = make();
      const rng = new Rng(8);
      for (const [, m] of model.namedModules()) {
        if (!(m instanceof BatchNorm2d)) continue;
        m.runningMean.f32.set(Array.from({ length: m.numFeatures }, () => rng.normal() * 0.1));
        m.runningVar.f32.set(Array.from({ length: m.numFeatures }, () => 0.5 + rng.nextFloat()));
      }
      model.eval();
      model.to(device);
      const x = Tensor.randn([2, 3, 32, 32], new Rng(9)).to(device);
      const logits = model.forward(x);
      backward(ops.mean(logits));
      const grads = [...model.namedParameters()].filter(([n]) => /(^|\.)(conv1|bn1|0|1)\.weight$/.test(n)).map(([, p]) => host(p.grad!));
      model.to('cpu');
      return [host(logits), ...grads];
    };
    for (const make of [() => new CifarResNet({ depth: 20 }), () => new CifarVGG({ depth: 11 })]) {
      const c = run(make, 'cpu');
      const d = run(make, 'cuda');
      expect(d.length).toBe(c.length);
      expect(c.length).toBeGreaterThan(2);
      d.forEach((v, i) => expectClose(`${make().constructor.name} output ${i}`, v, c[i], 1e-4, 1e-3));
    }
  });

  it('the SeaM search (reengineer) on cuda, killed after 2 epochs and resumed, follows the cpu run', async () => {
    const transform: TransformSpec = { height: 8, width: 8, crop: 'center', padding: 0, flip: false, normalization: { mean: [0.5], std: [0.25] } };
    const splits = syntheticSplits({ train: 24, test: 8, numClasses: 4, height: 8, width: 8, seed: 11 });
    const checkpoint = join(mkdtempSync(join(tmpdir(), 'seam-cuda-search-')), 'ckpt.safetensors');
    const search = async (device: Device, epochs: number, resume = false) => {
      manualSeed(1);
      const model = new CifarResNet({ depth: 20, numClasses: 4, inChannels: 1 }).eval();
      const problem = binaryProblem(splits, 2);
      const r = await reengineer(model, {
        problem,
        train: new DataLoader(problem.train, { batchSize: 16, transform, shuffle: true, seed: 2 }),
        test: new DataLoader(problem.test, { batchSize: 8, transform }),
      }, { epochs, lrMask: 0.05, device, checkpoint, resume });
      model.to('cpu');
      r.head.to('cpu');
      return r;
    };
    const cpu = await search('cpu', 3);
    rmSync(checkpoint, { force: true });
    const before = deviceMemory().liveBytes;
    await search('cuda', 2); // optimizer state goes to the checkpoint from the device
    const dev = await search('cuda', 3, true); // and back to the device on resume
    expect(deviceMemory().liveBytes, 'nothing left on the device after moving model and head back').toBe(before);
    expect(dev.originalAccuracy).toBe(cpu.originalAccuracy);
    expect(dev.bestEpoch).toBe(cpu.bestEpoch);
    expect(dev.log.length).toBe(3);
    dev.log.forEach((l, i) => {
      expect(Math.abs(l.trainLoss - cpu.log[i].trainLoss), `epoch ${i} train loss`).toBeLessThan(1e-4);
      expect(l.ratio, `epoch ${i} ratio`).toBeCloseTo(cpu.log[i].ratio, 3);
    });
    dev.masks.forEach((m, i) => expectClose(`mask ${m.param}`, m.mask.f32, cpu.masks[i].mask.f32, 1e-4, 1e-3));
    dev.head.parameters().forEach((p, i) => expectClose(`head ${i}`, p.f32, cpu.head.parameters()[i].f32, 1e-4, 1e-3));
  });
}
