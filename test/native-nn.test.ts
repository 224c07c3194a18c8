// The nn and optim kernels of the addon against PyTorch's golden outputs (../shared/golden/ops.safetensors)
// and naive JS loops, plus the errors bad calls must raise.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';

// The shared folder sits beside the checkout (../shared from the repo root, also for worktrees two levels
// deep) or inside it; SEAM_SHARED overrides. Walk up from this file to find it.
function findGolden(): string {
  const rel = join('golden', 'ops.safetensors');
  if (process.env.SEAM_SHARED) return join(process.env.SEAM_SHARED, rel);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++, dir = dirname(dir)) {
    const p = join(dir, 'shared', rel);
    if (existsSync(p)) return p;
  }
  throw new Error(`golden file ${rel} not found in a shared/ folder above ${import.meta.url} (set SEAM_SHARED)`);
}
const GOLDEN = findGolden();

// --- a tiny local safetensors reader (the real one lives in src/io) ---
interface StTensor { dtype: string; shape: number[]; f32?: Float32Array; i64?: BigInt64Array }
function readSafetensors(path: string): { tensors: Map<string, StTensor>; meta: Record<string, string> } {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const base = 8 + n;
  const tensors = new Map<string, StTensor>();
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [s, e] } = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const bytes = new Uint8Array(buf.subarray(base + s, base + e)); // copy: aligned, owned
    const t: StTensor = { dtype, shape };
    if (dtype === 'F32') t.f32 = new Float32Array(bytes.buffer, 0, bytes.length / 4);
    else if (dtype === 'I64') t.i64 = new BigInt64Array(bytes.buffer, 0, bytes.length / 8);
    tensors.set(name, t);
  }
  return { tensors, meta: (header.__metadata__ ?? {}) as Record<string, string> };
}

const golden = readSafetensors(GOLDEN);
const cases = JSON.parse(golden.meta.cases) as Record<string, Record<string, unknown>>;
function f32(name: string): Float32Array {
  const t = golden.tensors.get(name);
  if (!t?.f32) throw new Error(`golden tensor ${name} missing or not F32`);
  return t.f32.slice();
}
function shape(name: string): number[] { return golden.tensors.get(name)!.shape; }

function relErr(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(out.length).toBe(ref.length);
  let num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) { num += (out[i] - ref[i]) ** 2; den += ref[i] ** 2; }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}
function expectClose(out: ArrayLike<number>, ref: ArrayLike<number>, tol = 1e-5): void {
  expect(relErr(out, ref)).toBeLessThan(tol);
}

function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = (seed * 2654435761 + 12345) >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = lo + ((s % 100003) / 100003) * (hi - lo);
  }
  return a;
}
const pool = (a: number[]) => Int32Array.from(a);

describe('golden: batchnorm', () => {
  for (const mode of ['bn_eval', 'bn_train'] as const) {
    it(`${mode} forward, running stats and backward`, () => {
      const c = cases[mode] as { training: boolean; eps: number; momentum: number };
      const [n, ch, h, w] = shape(`${mode}.x`);
      const x = f32(`${mode}.x`), gamma = f32(`${mode}.weight`), beta = f32(`${mode}.bias`);
      const rm = f32(`${mode}.running_mean_in`), rv = f32(`${mode}.running_var_in`);
      const y = new Float32Array(x.length), sm = new Float32Array(ch), si = new Float32Array(ch);
      native.batchNorm2dForward(x, gamma, beta, rm, rv, y, sm, si, n, ch, h * w, c.training, c.momentum, c.eps);
      expectClose(y, f32(`${mode}.y`));
      expectClose(rm, f32(`${mode}.running_mean_out`));
      expectClose(rv, f32(`${mode}.running_var_out`));
      const gx = new Float32Array(x.length), gg = new Float32Array(ch), gb = new Float32Array(ch);
      native.batchNorm2dBackward(x, f32(`${mode}.gy`), gamma, sm, si, gx, gg, gb, n, ch, h * w, c.training);
      expectClose(gx, f32(`${mode}.gx`));
      expectClose(gg, f32(`${mode}.gweight`));
      expectClose(gb, f32(`${mode}.gbias`));
      // gamma / beta gradients are optional
      const gx2 = new Float32Array(x.length);
      native.batchNorm2dBackward(x, f32(`${mode}.gy`), gamma, sm, si, gx2, null, null, n, ch, h * w, c.training);
      expect(gx2).toEqual(gx);
    });
  }
});

describe('golden: pooling and relu', () => {
  for (const name of ['maxpool_k2s2', 'maxpool_k3s2p1', 'avgpool_k2s2']) {
    it(name, () => {
      const c = cases[name] as { kernel_size: number; stride: number; padding?: number };
      const [n, ch, h, w] = shape(`${name}.x`);
      const pad = c.padding ?? 0;
      const p = pool([n, ch, h, w, c.kernel_size, c.kernel_size, c.stride, c.stride, pad, pad, 1, 1, 0, 1]);
      const x = f32(`${name}.x`), y = new Float32Array(f32(`${name}.y`).length), gx = new Float32Array(x.length);
      if (name.startsWith('max')) {
        const am = new Int32Array(y.length);
        native.maxPool2dForward(x, y, am, p);
        native.maxPool2dBackward(f32(`${name}.gy`), am, gx, p);
      } else {
        native.avgPool2dForward(x, y, p);
        native.avgPool2dBackward(f32(`${name}.gy`), gx, p);
      }
      expectClose(y, f32(`${name}.y`));
      expectClose(gx, f32(`${name}.gx`));
    });
  }

  it('adaptive_avgpool_1 as global average pooling', () => {
    const [n, ch, h, w] = shape('adaptive_avgpool_1.x');
    const y = new Float32Array(n * ch), gx = new Float32Array(n * ch * h * w);
    native.globalAvgPoolForward(f32('adaptive_avgpool_1.x'), y, n * ch, h * w);
    native.globalAvgPoolBackward(f32('adaptive_avgpool_1.gy'), gx, n * ch, h * w);
    expectClose(y, f32('adaptive_avgpool_1.y'));
    expectClose(gx, f32('adaptive_avgpool_1.gx'));
  });

  it('relu forward and backward', () => {
    const x = f32('relu.x'), y = new Float32Array(x.length), gx = new Float32Array(x.length);
    native.relu(x, y);
    native.reluBackward(y, f32('relu.gy'), gx);
    expectClose(y, f32('relu.y'));
    expectClose(gx, f32('relu.gx'));
  });
});

describe('golden: cross-entropy, masks, ratio', () => {
  it('cross_entropy (mean) loss and gradient', () => {
    const [rows, classes] = shape('cross_entropy.logits');
    const labels = Int32Array.from(golden.tensors.get('cross_entropy.labels')!.i64!, (v) => Number(v));
    const probs = new Float32Array(rows * classes), gx = new Float32Array(rows * classes);
    const loss = native.crossEntropyForward(f32('cross_entropy.logits'), labels, probs, rows, classes);
    expect(Math.abs(loss - f32('cross_entropy.loss')[0]) / Math.abs(f32('cross_entropy.loss')[0])).toBeLessThan(1e-5);
    native.crossEntropyBackward(probs, labels, gx, rows, classes, 1 / rows);
    expectClose(gx, f32('cross_entropy.glogits'));
  });

  it('masked_linear: maskedWeight, addRowBias, maskGrad, sumRows', () => {
    const [b, k] = shape('masked_linear.x');
    const [o] = shape('masked_linear.w');
    const x = f32('masked_linear.x'), w = f32('masked_linear.w'), bias = f32('masked_linear.b'), gy = f32('masked_linear.gy');
    const weff = new Float32Array(o * k), beff = new Float32Array(o);
    native.maskedWeight(w, f32('masked_linear.mw'), weff);
    native.maskedWeight(bias, f32('masked_linear.mb'), beff);
    const y = new Float32Array(b * o);
    for (let i = 0; i < b; i++) for (let j = 0; j < o; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += x[i * k + t] * weff[j * k + t];
      y[i * o + j] = s;
    }
    native.addRowBias(y, beff, b, o);
    expectClose(y, f32('masked_linear.y'));
    const gweff = new Float32Array(o * k);
    for (let j = 0; j < o; j++) for (let t = 0; t < k; t++) {
      let s = 0;
      for (let i = 0; i < b; i++) s += gy[i * o + j] * x[i * k + t];
      gweff[j * k + t] = s;
    }
    const gm = new Float32Array(o * k), gbeff = new Float32Array(o), gmb = new Float32Array(o);
    native.maskGrad(gweff, w, gm);
    native.sumRows(gy, gbeff, b, o);
    native.maskGrad(gbeff, bias, gmb);
    expectClose(gm, f32('masked_linear.gmw'));
    expectClose(gmb, f32('masked_linear.gmb'));
  });

  it('weight_ratio through countPositive', () => {
    const m1 = f32('weight_ratio.m1'), m2 = f32('weight_ratio.m2');
    const r = (native.countPositive(m1) + native.countPositive(m2)) / (m1.length + m2.length);
    expect(Math.abs(r - f32('weight_ratio.ratio')[0])).toBeLessThan(1e-7);
  });
});

describe('golden: optimisers (three steps)', () => {
  for (const name of ['adam', 'adam_wd']) {
    it(name, () => {
      const c = cases[name] as { lr: number; betas: [number, number]; eps: number; weight_decay: number };
      const p = f32(`${name}.p0`), m = new Float32Array(p.length), v = new Float32Array(p.length);
      for (let step = 1; step <= 3; step++) {
        native.adamStep(p, f32(`${name}.g${step}`), m, v, step, c.lr, c.betas[0], c.betas[1], c.eps, c.weight_decay);
        expectClose(p, f32(`${name}.p${step}`));
      }
    });
  }
  it('sgd_momentum_wd', () => {
    const c = cases.sgd_momentum_wd as { lr: number; momentum: number; dampening: number; weight_decay: number; nesterov: boolean };
    const p = f32('sgd_momentum_wd.p0'), buf = new Float32Array(p.length);
    for (let step = 1; step <= 3; step++) {
      native.sgdStep(p, f32(`sgd_momentum_wd.g${step}`), buf, c.lr, c.momentum, c.dampening, c.weight_decay, c.nesterov, step === 1);
      expectClose(p, f32(`sgd_momentum_wd.p${step}`));
    }
  });
});
