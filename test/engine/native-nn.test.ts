// The nn and optim kernels of the addon against PyTorch's golden outputs (../shared/golden/ops.safetensors)
// and naive JS loops, plus the errors bad calls must raise.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native.js';
import { goldenPath } from '../helpers/golden.js';
import { ROOT } from '../helpers/shared.js';

const GOLDEN = goldenPath('ops.safetensors');

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

describe('naive JS checks (small and multi-threaded sizes)', () => {
  for (const n of [0, 1, 37, 1_000_003]) {
    it(`elementwise ops, n = ${n}`, () => {
      const a = rand(n, 1), b = rand(n, 2), out = new Float32Array(n);
      const check = (f: (i: number) => number) => {
        for (let i = 0; i < n; i++) if (out[i] !== Math.fround(f(i))) throw new Error(`index ${i}: ${out[i]} vs ${f(i)}`);
      };
      native.maskedWeight(a, b, out); check((i) => (b[i] > 0 ? a[i] : 0 * a[i]));
      native.maskGrad(a, b, out); check((i) => Math.min(1, Math.max(-1, Math.fround(a[i] * b[i]))));
      native.relu(a, out); check((i) => (a[i] > 0 ? a[i] : 0));
      native.reluBackward(a, b, out); check((i) => (a[i] > 0 ? b[i] : 0));
      native.add(a, b, out); check((i) => a[i] + b[i]);
      native.mul(a, b, out); check((i) => a[i] * b[i]);
      native.scale(a, 0.75, out); check((i) => a[i] * 0.75);
      out.set(b); native.axpy(-0.5, a, out); check((i) => b[i] + Math.fround(-0.5 * a[i]));
      out.set(b); native.addScalar(out, 0.25); check((i) => b[i] + 0.25);
      let pos = 0, s = 0;
      for (let i = 0; i < n; i++) { pos += a[i] > 0 ? 1 : 0; s += a[i]; }
      expect(native.countPositive(a)).toBe(pos);
      expect(Math.abs(native.sum(a) - s)).toBeLessThan(1e-9 * (1 + Math.abs(s)) + 1e-9);
    });
  }

  for (const [rows, cols] of [[1, 1], [7, 5], [3000, 700], [2, 200_000]]) {
    it(`addRowBias, sumRows, argmax, ${rows}x${cols}`, () => {
      const g = rand(rows * cols, 3), bias = rand(cols, 4);
      const y = g.slice();
      native.addRowBias(y, bias, rows, cols);
      for (let i = 0; i < rows * cols; i++) if (y[i] !== Math.fround(g[i] + bias[i % cols])) throw new Error(`addRowBias ${i}`);
      const out = new Float32Array(cols), ref = new Float64Array(cols);
      native.sumRows(g, out, rows, cols);
      for (let i = 0; i < rows * cols; i++) ref[i % cols] += g[i];
      expectClose(out, ref, 1e-6);
      const am = new Int32Array(rows);
      native.argmax(g, am, rows, cols);
      for (let r = 0; r < rows; r++) {
        let best = 0;
        for (let c = 1; c < cols; c++) if (g[r * cols + c] > g[r * cols + best]) best = c;
        expect(am[r]).toBe(best);
      }
    });
  }

  it('argmax takes the first maximum', () => {
    const am = new Int32Array(2);
    native.argmax(Float32Array.from([1, 3, 3, 2, 2, 0]), am, 2, 3);
    expect(Array.from(am)).toEqual([1, 0]);
  });

  it('reductions are deterministic run to run', () => {
    const x = rand(3_000_017, 9, -3, 5);
    const s0 = native.sum(x);
    for (let k = 0; k < 3; k++) expect(native.sum(x)).toBe(s0);
    const bn = (y: Float32Array) => native.batchNorm2dForward(x.subarray(0, 64 * 16 * 1024), new Float32Array(16).fill(1),
      new Float32Array(16), new Float32Array(16), new Float32Array(16).fill(1), y, new Float32Array(16), new Float32Array(16),
      64, 16, 1024, true, 0.1, 1e-5);
    const y1 = new Float32Array(64 * 16 * 1024), y2 = new Float32Array(y1.length);
    bn(y1); bn(y2);
    expect(Buffer.compare(Buffer.from(y1.buffer), Buffer.from(y2.buffer))).toBe(0);
  });

  it('results are bitwise identical for 1, 3 and the default number of threads', () => {
    // Each child loads the addon with its own pool size and prints a digest of reductions and BN.
    const root = ROOT;
    const script = `
      const native = require('node-gyp-build')(${JSON.stringify(root)});
      const n = 3_000_017, x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.37) * 3 + 1;
      const rows = 4096, cols = 700, out = new Float32Array(cols);
      native.sumRows(x.subarray(0, rows * cols), out, rows, cols);
      const N = 32, C = 8, HW = 4096, y = new Float32Array(N * C * HW);
      const one = new Float32Array(C).fill(1), rm = new Float32Array(C), rv = one.slice(), sm = rm.slice(), si = rm.slice();
      native.batchNorm2dForward(x.subarray(0, N * C * HW), one, rm.slice(), rm, rv, y, sm, si, N, C, HW, true, 0.1, 1e-5);
      const probs = new Float32Array(1000 * 100), labels = new Int32Array(1000);
      const loss = native.crossEntropyForward(x.subarray(0, 100000), labels, probs, 1000, 100);
      const h = (a) => require('node:crypto').createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
      console.log(JSON.stringify([native.sum(x), native.countPositive(x), loss, h(out), h(y), h(rv), h(si), h(probs)]));`;
    const run = (threads?: string) => execFileSync(process.execPath, ['-e', script], {
      cwd: root, encoding: 'utf8', env: { ...process.env, SEAM_NUM_THREADS: threads ?? '' },
    });
    const base = run();
    expect(run('1')).toBe(base);
    expect(run('3')).toBe(base);
  });

  // Naive pooling over every tap (PyTorch rules): max with -inf padding, avg with count_include_pad.
  function naivePool(x: Float32Array, p: number[], max: boolean, oh: number, ow: number): Float32Array {
    const [n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, , cip] = p;
    const y = new Float32Array(n * c * oh * ow);
    for (let pl = 0; pl < n * c; pl++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
      let best = -Infinity, sum = 0, inside = 0, padded = 0;
      for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) {
        const iy = oy * sh - ph + a * dh, ix = ox * sw - pw + b * dw;
        if (iy < h + ph && ix < w + pw) padded++;
        if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
        const v = x[pl * h * w + iy * w + ix];
        inside++; sum += v; if (v > best) best = v;
      }
      y[(pl * oh + oy) * ow + ox] = max ? best : inside === 0 ? 0 : sum / (cip ? padded : inside);
    }
    return y;
  }

  for (const [p, oh, ow] of [
    [[2, 3, 10, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1], 6, 6], // ceil_mode adds a window
    [[2, 3, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0], 5, 5], // count_include_pad = false
    [[1, 2, 11, 7, 2, 3, 3, 2, 1, 1, 1, 1, 1, 1], 4, 4],
    [[4, 32, 32, 32, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1], 16, 16],
  ] as [number[], number, number][]) {
    it(`max / avg pooling vs naive, params ${p.join(',')}`, () => {
      const x = rand(p[0] * p[1] * p[2] * p[3], 5);
      const y = new Float32Array(p[0] * p[1] * oh * ow), am = new Int32Array(y.length);
      native.maxPool2dForward(x, y, am, pool(p));
      expect(y).toEqual(naivePool(x, p, true, oh, ow));
      for (let i = 0; i < y.length; i++) expect(x[Math.floor(i / (oh * ow)) * p[2] * p[3] + am[i]]).toBe(y[i]);
      native.avgPool2dForward(x, y, pool(p));
      expectClose(y, naivePool(x, p, false, oh, ow), 1e-6);
    });
  }

  it('maxPool2d with dilation vs naive', () => {
    const p = [1, 2, 9, 9, 3, 2, 1, 2, 1, 1, 2, 3, 0, 1];
    const oh = 9 + 2 - 2 * 2 - 1 + 1, ow = Math.floor((9 + 2 - 3 * 1 - 1) / 2) + 1;
    const x = rand(2 * 81, 6), y = new Float32Array(2 * oh * ow), am = new Int32Array(y.length);
    native.maxPool2dForward(x, y, am, pool(p));
    expect(y).toEqual(naivePool(x, p, true, oh, ow));
  });

  it('sgdStep without momentum, and with Nesterov, vs naive', () => {
    const p0 = rand(100, 7), g = rand(100, 8);
    const p = p0.slice();
    native.sgdStep(p, g, null, 0.1, 0, 0, 0.01, false, true);
    const r = Math.fround; // the kernel works in f32 with f32 hyper-parameters
    for (let i = 0; i < 100; i++) expect(p[i]).toBe(r(p0[i] + r(r(-0.1) * r(g[i] + r(r(0.01) * p0[i])))));
    const q = p0.slice(), buf = new Float32Array(100);
    native.sgdStep(q, g, buf, 0.1, 0.9, 0, 0, true, true);
    for (let i = 0; i < 100; i++) {
      expect(buf[i]).toBe(g[i]);
      expect(q[i]).toBe(r(p0[i] + r(r(-0.1) * r(g[i] + r(r(0.9) * g[i])))));
    }
  });
});

describe('bad calls throw errors naming the op', () => {
  const f = (n: number) => new Float32Array(n);
  const cases: [string, () => unknown, RegExp][] = [
    ['add', () => native.add(f(3), f(4), f(3)), /^add: b has 4 elements but a has 3/],
    ['maskedWeight', () => native.maskedWeight(f(3), f(3), f(2)), /^maskedWeight: /],
    ['relu aliasing', () => { const a = f(4); native.relu(a, a); }, /^relu: .*alias/],
    ['sumRows', () => native.sumRows(f(6), f(2), 2, 3), /^sumRows: out has 2 elements, expected cols = 3/],
    ['addRowBias', () => native.addRowBias(f(5), f(2), 2, 3), /^addRowBias: y has 5 elements, expected rows\*cols = 2\*3 = 6/],
    ['argmax', () => native.argmax(f(6), new Int32Array(3), 2, 3), /^argmax: out has 3 elements/],
    ['batchNorm2dForward', () => native.batchNorm2dForward(f(10), f(6), f(6), f(6), f(6), f(450), f(6), f(6), 3, 6, 25, false, 0.1, 1e-5),
      /^batchNorm2dForward: x has 10 elements, expected n\*c\*hw = 3\*6\*25 = 450/],
    ['batchNorm2dForward one value', () => native.batchNorm2dForward(f(6), f(6), f(6), f(6), f(6), f(6), f(6), f(6), 1, 6, 1, true, 0.1, 1e-5),
      /^batchNorm2dForward: training needs more than 1 value per channel/],
    ['batchNorm2dBackward', () => native.batchNorm2dBackward(f(12), f(12), f(3), f(3), f(3), f(12), f(2), null, 2, 3, 2, true),
      /^batchNorm2dBackward: ggamma has 2 elements, expected c = 3/],
    ['maxPool2dForward zero stride', () => native.maxPool2dForward(f(81), f(16), new Int32Array(16), pool([1, 1, 9, 9, 2, 2, 0, 2, 0, 0, 1, 1, 0, 1])),
      /^maxPool2dForward: stride must be > 0/],
    ['maxPool2dForward zero kernel', () => native.maxPool2dForward(f(81), f(16), new Int32Array(16), pool([1, 1, 9, 9, 0, 2, 2, 2, 0, 0, 1, 1, 0, 1])),
      /^maxPool2dForward: kernel size must be > 0/],
    ['maxPool2dForward padding', () => native.maxPool2dForward(f(81), f(25), new Int32Array(25), pool([1, 1, 9, 9, 2, 2, 2, 2, 2, 2, 1, 1, 0, 1])),
      /^maxPool2dForward: padding must be >= 0 and at most half/],
    ['maxPool2dForward output too small', () => native.maxPool2dForward(f(4), f(1), new Int32Array(1), pool([1, 1, 2, 2, 3, 3, 1, 1, 0, 0, 1, 1, 0, 1])),
      /^maxPool2dForward: output size .* too small/],
    ['maxPool2dForward y length', () => native.maxPool2dForward(f(81), f(15), new Int32Array(16), pool([1, 1, 9, 9, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1])),
      /^maxPool2dForward: y has 15 elements, expected N\*C\*outH\*outW = 1\*1\*4\*4 = 16/],
    ['maxPool2dForward params length', () => native.maxPool2dForward(f(81), f(16), new Int32Array(16), pool([1, 1, 9, 9])),
      /^maxPool2dForward: pool params has 4 elements, expected 14/],
    ['maxPool2dBackward bad index', () => native.maxPool2dBackward(f(1), Int32Array.from([4]), f(4), pool([1, 1, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1])),
      /^maxPool2dBackward: argmax\[0\] = 4 is outside/],
    ['avgPool2dForward dilation', () => native.avgPool2dForward(f(81), f(16), pool([1, 1, 9, 9, 2, 2, 2, 2, 0, 0, 2, 2, 0, 1])),
      /^avgPool2dForward: average pooling has no dilation/],
    ['avgPool2dBackward', () => native.avgPool2dBackward(f(16), f(80), pool([1, 1, 9, 9, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1])),
      /^avgPool2dBackward: gx has 80 elements/],
    ['globalAvgPoolForward', () => native.globalAvgPoolForward(f(10), f(2), 2, 4), /^globalAvgPoolForward: x has 10 elements, expected nc\*hw = 2\*4 = 8/],
    ['globalAvgPoolBackward', () => native.globalAvgPoolBackward(f(2), f(8), 2, 0), /^globalAvgPoolBackward: hw must be >= 1/],
    ['crossEntropyForward label', () => native.crossEntropyForward(f(6), Int32Array.from([0, 3]), f(6), 2, 3),
      /^crossEntropyForward: label 3 at row 1 is outside \[0, 3\)/],
    ['crossEntropyForward negative label', () => native.crossEntropyForward(f(6), Int32Array.from([-1, 0]), f(6), 2, 3),
      /^crossEntropyForward: label -1 at row 0/],
    ['crossEntropyBackward', () => native.crossEntropyBackward(f(6), Int32Array.from([0]), f(6), 2, 3, 0.5),
      /^crossEntropyBackward: labels has 1 elements, expected rows = 2/],
    ['adamStep length', () => native.adamStep(f(3), f(3), f(3), f(2), 1, 0.01, 0.9, 0.999, 1e-8, 0), /^adamStep: v has 2 elements but p has 3/],
    ['adamStep step 0', () => native.adamStep(f(3), f(3), f(3), f(3), 0, 0.01, 0.9, 0.999, 1e-8, 0), /^adamStep: step is 1-based/],
    ['adamStep beta', () => native.adamStep(f(3), f(3), f(3), f(3), 1, 0.01, 1, 0.999, 1e-8, 0), /^adamStep: beta1 must be in \[0, 1\)/],
    ['sgdStep no buf', () => native.sgdStep(f(3), f(3), null, 0.1, 0.9, 0, 0, false, true), /^sgdStep: buf is required/],
    ['sgdStep nesterov', () => native.sgdStep(f(3), f(3), f(3), 0.1, 0.9, 0.1, 0, true, true), /^sgdStep: Nesterov momentum requires/],
    ['scale non-number', () => (native.scale as (...a: unknown[]) => void)(f(3), 'x', f(3)), /^scale: argument 1 must be a number/],
  ];
  for (const [name, call, re] of cases) {
    it(name, () => expect(call).toThrow(re));
  }
});
