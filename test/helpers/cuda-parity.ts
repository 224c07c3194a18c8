// The CUDA parity suite: every launcher of src/backend/cuda-native.ts against its CPU twin (the
// addon's CPU op when this build has it, else the plain-loop JS version in ./ref.ts), on random
// inputs, |gpu - cpu| <= atol + rtol * |cpu| with the first mismatches printed by index.
// test/cuda/gpu-parity.test.ts runs it on a real GPU; test/cuda/stand-in.test.ts on the emulated driver.
import { expect, it } from 'vitest';
import { native, type NativeBinding } from '../../src/native.js';
import type { CudaNativeBinding } from '../../src/backend/cuda-native.js';
import { jsCpu, poolGeom } from './cuda-ref.js';

type F32 = Float32Array;

let seed = 12345;
function rnd(): number { // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randF = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rnd());
const randI = (n: number, hi: number) => Int32Array.from({ length: n }, () => Math.floor(rnd() * hi));

/** Throws listing the first mismatches by index. */
export function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): void {
  expect(got.length, `${name}: length`).toBe(want.length);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(g) && Number.isNaN(w)) continue;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      if (bad.length < 8) bad.push(`  [${i}] gpu ${g} cpu ${w} |diff| ${Math.abs(g - w)}`);
      count++;
    }
  }
  if (count) throw new Error(`${name}: ${count} of ${want.length} elements differ (atol ${atol}, rtol ${rtol}); first:\n${bad.join('\n')}`);
}

/** The CPU twin of an op: the addon's own CPU op when present, else the JS loop version. */
function cpu<K extends keyof NativeBinding>(name: K): NativeBinding[K] {
  const own = (native as Partial<NativeBinding>)[name];
  return (typeof own === 'function' ? own : jsCpu[name]) as NativeBinding[K];
}

export function defineCudaParity(cu: CudaNativeBinding): void {
  const live: number[] = [];
  const up = (a: F32 | Int32Array) => {
    const h = cu.cudaAlloc(a.length);
    live.push(h);
    if (a instanceof Float32Array) cu.cudaUpload(h, a); else cu.cudaUploadI32(h, a);
    return h;
  };
  const empty = (n: number) => { const h = cu.cudaAlloc(n); live.push(h); cu.cudaFill(h, Number.NaN); return h; };
  const down = (h: number) => { const o = new Float32Array(cu.cudaLength(h)); cu.cudaDownload(h, o); return o; };
  const downI = (h: number) => { const o = new Int32Array(cu.cudaLength(h)); cu.cudaDownloadI32(h, o); return o; };
  const release = () => { while (live.length) cu.cudaFree(live.pop()!); };

  it('gemm: shapes x transposes x beta', () => {
    for (const [m, n, k] of [[1, 1, 1], [7, 5, 3], [64, 64, 64], [70, 33, 129]] as const)
      for (let t = 0; t < 4; t++) {
        const ta = (t & 1) === 1, tb = (t & 2) === 2, beta = t === 3 ? 0 : 0.5;
        const a = randF(m * k), b = randF(k * n), c = randF(m * n), want = c.slice();
        cpu('gemm')(ta, tb, m, n, k, 1.25, a, b, beta, want);
        const hc = up(c);
        cu.cudaGemm(ta, tb, m, n, k, 1.25, up(a), up(b), beta, hc);
        expectClose(`gemm ${m}x${n}x${k} ta=${ta} tb=${tb}`, down(hc), want, 1e-5, 1e-5);
      }
    release();
  });

  // Few output tiles and a long K take the split-K path (partials summed in a second kernel).
  // Float sums of K terms drift about K * eps / 3 here, so the bound grows with sqrt(K).
  it('gemm and conv backward-weight split over K', () => {
    for (const [m, n, k, beta] of [[16, 144, 4096, 0], [9, 11, 2048, 1]] as const) {
      const a = randF(m * k), b = randF(k * n), c = randF(m * n), want = c.slice();
      cpu('gemm')(false, true, m, n, k, 1, a, b, beta, want);
      const hc = up(c);
      cu.cudaGemm(false, true, m, n, k, 1, up(a), up(b), beta, hc);
      expectClose(`gemm ${m}x${n}x${k} split-K`, down(hc), want, 1e-5 * Math.sqrt(k), 1e-5);
    }
    const pc = [8, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1]; // weight grad: 16 x 144 summed over 8192 pixels
    const p = Int32Array.from(pc);
    const x = randF(8 * 16 * 32 * 32), gy = randF(8 * 16 * 32 * 32), gw = new Float32Array(16 * 144), gb = new Float32Array(16);
    cpu('conv2dBackwardWeight')(x, gy, gw, gb, p);
    const [hgw, hgb] = [empty(gw.length), empty(16)];
    cu.cudaConv2dBackwardWeight(up(x), up(gy), hgw, hgb, p);
    expectClose('conv backward-weight split-K', down(hgw), gw, 1e-5 * Math.sqrt(8192), 1e-5);
    expectClose('conv backward-bias split-K', down(hgb), gb, 1e-5 * Math.sqrt(8192), 1e-5);
    release();
  });

  it('gemm with TF32 tensor cores (opt-in) stays within TF32 rounding', () => {
    const [m, n, k] = [33, 40, 50];
    const a = randF(m * k), b = randF(k * n), want = new Float32Array(m * n);
    cpu('gemm')(false, true, m, n, k, 1, a, b, 0, want);
    const hc = empty(m * n);
    cu.cudaSetTf32(true);
    try { cu.cudaGemm(false, true, m, n, k, 1, up(a), up(b), 0, hc); } finally { cu.cudaSetTf32(false); }
    expectClose('gemm tf32', down(hc), want, 5e-3 * Math.sqrt(k), 1e-2);
    release();
  });

  //                N  C  H  W  O KH KW sH sW pH pW dH dW G
  const convCases = [[2, 3, 8, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1], [3, 4, 7, 7, 6, 3, 2, 2, 1, 1, 0, 1, 2, 2],
    [2, 4, 5, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 4], [5, 2, 9, 8, 3, 5, 3, 3, 2, 2, 1, 1, 1, 1]];
  it('conv2d forward, backward-data, backward-weight (groups, stride, padding, dilation)', () => {
    for (const pc of convCases) {
      const p = Int32Array.from(pc);
      const [N, C, H, W, O, KH, KW] = pc as [number, number, number, number, number, number, number];
      const OH = Math.floor((H + 2 * pc[9]! - pc[11]! * (KH - 1) - 1) / pc[7]!) + 1;
      const OW = Math.floor((W + 2 * pc[10]! - pc[12]! * (KW - 1) - 1) / pc[8]!) + 1;
      const x = randF(N * C * H * W), w = randF(O * (C / pc[13]!) * KH * KW), bias = randF(O), gy = randF(N * O * OH * OW);
      const tag = `conv [${pc.join(',')}]`;
      const y = new Float32Array(gy.length), gx = new Float32Array(x.length), gw = new Float32Array(w.length), gb = new Float32Array(O);
      cpu('conv2dForward')(x, w, bias, y, p);
      cpu('conv2dBackwardData')(gy, w, gx, p);
      cpu('conv2dBackwardWeight')(x, gy, gw, gb, p);
      const [hx, hw, hgy] = [up(x), up(w), up(gy)];
      const [hy, hgx, hgw, hgb] = [empty(y.length), empty(gx.length), empty(gw.length), empty(O)];
      cu.cudaConv2dForward(hx, hw, up(bias), hy, p);
      cu.cudaConv2dBackwardData(hgy, hw, hgx, p);
      cu.cudaConv2dBackwardWeight(hx, hgy, hgw, hgb, p);
      expectClose(`${tag} forward`, down(hy), y, 1e-4, 1e-4);
      expectClose(`${tag} backward-data`, down(hgx), gx, 1e-4, 1e-4);
      expectClose(`${tag} backward-weight`, down(hgw), gw, 1e-4, 1e-4);
      expectClose(`${tag} backward-bias`, down(hgb), gb, 1e-4, 1e-4);
      release();
    }
  });

  it('elementwise, masks and ReLU', () => {
    const n = 3000, a = randF(n), b = randF(n), g = randF(n, -3, 3);
    const [ha, hb, hg] = [up(a), up(b), up(g)];
    const bin = [['add', 'cudaAdd'], ['mul', 'cudaMul'], ['maskedWeight', 'cudaMaskedWeight'], ['maskGrad', 'cudaMaskGrad'],
      ['reluBackward', 'cudaReluBackward']] as const;
    for (const [c, k] of bin) {
      const want = new Float32Array(n), ho = empty(n);
      const [x, y, hx, hy] = c === 'maskGrad' ? [g, a, hg, ha] : [a, b, ha, hb];
      (cpu(c) as (p: F32, q: F32, o: F32) => void)(x, y, want);
      (cu[k] as (p: number, q: number, o: number) => void)(hx, hy, ho);
      expectClose(c, down(ho), want, 0, 0);
    }
    let want = new Float32Array(n), ho = empty(n);
    cpu('relu')(a, want); cu.cudaRelu(ha, ho); expectClose('relu', down(ho), want, 0, 0);
    cpu('scale')(a, 0.3, want); cu.cudaScale(ha, 0.3, ho); expectClose('scale', down(ho), want, 0, 1e-6);
    want = b.slice(); ho = up(b);
    cpu('axpy')(-2, a, want); cu.cudaAxpy(-2, ha, ho); expectClose('axpy', down(ho), want, 1e-6, 1e-6);
    cpu('addScalar')(want, 0.25); cu.cudaAddScalar(ho, 0.25); expectClose('addScalar', down(ho), want, 1e-6, 1e-6);
    const bias = randF(30);
    cpu('addRowBias')(want, bias, 100, 30); cu.cudaAddRowBias(ho, up(bias), 100, 30);
    expectClose('addRowBias', down(ho), want, 1e-6, 1e-6);
    release();
  });

  it('reductions: sum, countPositive, sumRows, argmax', () => {
    for (const n of [1, 1000, 100_000]) { // the C++ emulation covers grids that wrap (n > 4096 * 256)
      const x = randF(n), hx = up(x);
      expectClose(`sum n=${n}`, [cu.cudaSum(hx)], [cpu('sum')(x)], 1e-4, 1e-5);
      expect(cu.cudaCountPositive(hx), `countPositive n=${n}`).toBe(cpu('countPositive')(x));
      release();
    }
    for (const [rows, cols] of [[1, 1], [300, 9], [17, 70]] as const) {
      const g = randF(rows * cols), hg = up(g), want = new Float32Array(cols), ho = empty(cols);
      cpu('sumRows')(g, want, rows, cols); cu.cudaSumRows(hg, ho, rows, cols);
      expectClose(`sumRows ${rows}x${cols}`, down(ho), want, 1e-5, 1e-5);
      const am = new Int32Array(rows), hi = empty(rows);
      cpu('argmax')(g, am, rows, cols); cu.cudaArgmax(hg, hi, rows, cols);
      expectClose(`argmax ${rows}x${cols}`, downI(hi), am, 0, 0);
      release();
    }
  });

  it('pooling: max, average (ceil mode, count_include_pad), global average', () => {
    for (const pc of [[2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1], [1, 2, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0],
      [2, 2, 6, 7, 3, 2, 1, 2, 1, 1, 1, 1, 1, 1], [1, 3, 9, 9, 3, 3, 2, 2, 1, 1, 2, 2, 0, 1]]) {
      const p = Int32Array.from(pc), g = poolGeom(p), nin = g.N * g.C * g.H * g.W, nout = g.N * g.C * g.OH * g.OW;
      const x = randF(nin), gy = randF(nout), hx = up(x), hgy = up(gy), tag = `[${pc.join(',')}]`;
      const y = new Float32Array(nout), am = new Int32Array(nout), gx = new Float32Array(nin);
      const [hy, ham, hgx] = [empty(nout), empty(nout), empty(nin)];
      cpu('maxPool2dForward')(x, y, am, p); cu.cudaMaxPool2dForward(hx, hy, ham, p);
      expectClose(`maxPool forward ${tag}`, down(hy), y, 0, 0);
      expectClose(`maxPool argmax ${tag}`, downI(ham), am, 0, 0);
      cpu('maxPool2dBackward')(gy, am, gx, p); cu.cudaMaxPool2dBackward(hgy, ham, hgx, p);
      expectClose(`maxPool backward ${tag}`, down(hgx), gx, 1e-6, 1e-6);
      if (g.dH === 1 && g.dW === 1) {
        cpu('avgPool2dForward')(x, y, p); cu.cudaAvgPool2dForward(hx, hy, p);
        expectClose(`avgPool forward ${tag}`, down(hy), y, 1e-6, 1e-5);
        cpu('avgPool2dBackward')(gy, gx, p); cu.cudaAvgPool2dBackward(hgy, hgx, p);
        expectClose(`avgPool backward ${tag}`, down(hgx), gx, 1e-6, 1e-5);
      } else {
        expect(() => cu.cudaAvgPool2dForward(hx, hy, p)).toThrow(/cudaAvgPool2dForward: average pooling has no dilation/);
      }
      release();
    }
    const [nc, hw] = [12, 49], x = randF(nc * hw), gy = randF(nc), y = new Float32Array(nc), gx = new Float32Array(nc * hw);
    const [hy, hgx] = [empty(nc), empty(nc * hw)];
    cpu('globalAvgPoolForward')(x, y, nc, hw); cu.cudaGlobalAvgPoolForward(up(x), hy, nc, hw);
    expectClose('globalAvgPool forward', down(hy), y, 1e-6, 1e-5);
    cpu('globalAvgPoolBackward')(gy, gx, nc, hw); cu.cudaGlobalAvgPoolBackward(up(gy), hgx, nc, hw);
    expectClose('globalAvgPool backward', down(hgx), gx, 1e-7, 1e-6);
    release();
  });

  it('batchNorm2d forward (train / eval, running stats) and backward', () => {
    for (const training of [true, false]) {
      const [n, c, hw] = [4, 6, 25], total = n * c * hw, tag = training ? 'train' : 'eval';
      const x = randF(total, -2, 3), gamma = randF(c), beta = randF(c), gy = randF(total);
      const rm = randF(c), rv = randF(c, 0.5, 2), rm2 = rm.slice(), rv2 = rv.slice();
      const y = new Float32Array(total), sm = new Float32Array(c), si = new Float32Array(c);
      cpu('batchNorm2dForward')(x, gamma, beta, rm2, rv2, y, sm, si, n, c, hw, training, 0.1, 1e-5);
      const [hx, hga, hrm, hrv] = [up(x), up(gamma), up(rm), up(rv)];
      const [hy, hsm, hsi] = [empty(total), empty(c), empty(c)];
      cu.cudaBatchNorm2dForward(hx, hga, up(beta), hrm, hrv, hy, hsm, hsi, n, c, hw, training, 0.1, 1e-5);
      expectClose(`bn ${tag} y`, down(hy), y, 1e-5, 1e-5);
      expectClose(`bn ${tag} saveMean`, down(hsm), sm, 1e-6, 1e-5);
      expectClose(`bn ${tag} saveInvstd`, down(hsi), si, 1e-6, 1e-5);
      expectClose(`bn ${tag} runningMean`, down(hrm), rm2, 1e-6, 1e-5);
      expectClose(`bn ${tag} runningVar`, down(hrv), rv2, 1e-6, 1e-5);
      const gx = new Float32Array(total), gg = new Float32Array(c), gb = new Float32Array(c);
      cpu('batchNorm2dBackward')(x, gy, gamma, sm, si, gx, gg, gb, n, c, hw, training);
      const [hgx, hgg, hgb] = [empty(total), empty(c), empty(c)];
      cu.cudaBatchNorm2dBackward(hx, up(gy), hga, hsm, hsi, hgx, hgg, hgb, n, c, hw, training);
      expectClose(`bn ${tag} gx`, down(hgx), gx, 1e-5, 1e-4);
      expectClose(`bn ${tag} ggamma`, down(hgg), gg, 1e-5, 1e-5);
      expectClose(`bn ${tag} gbeta`, down(hgb), gb, 1e-5, 1e-5);
      release();
    }
  });

  it('cross-entropy forward / backward, and a bad label is an exception', () => {
    for (const [rows, cls] of [[1, 1], [64, 10], [5, 100]] as const) {
      const x = randF(rows * cls, -5, 5), labels = randI(rows, cls), probs = new Float32Array(rows * cls);
      const loss = cpu('crossEntropyForward')(x, labels, probs, rows, cls);
      const [hx, hl, hp] = [up(x), up(labels), empty(rows * cls)];
      expectClose(`ce loss ${rows}x${cls}`, [cu.cudaCrossEntropyForward(hx, hl, hp, rows, cls)], [loss], 1e-5, 1e-5);
      expectClose(`ce probs ${rows}x${cls}`, down(hp), probs, 1e-6, 1e-5);
      const gx = new Float32Array(rows * cls), hgx = empty(rows * cls);
      cpu('crossEntropyBackward')(probs, labels, gx, rows, cls, 1 / rows);
      cu.cudaCrossEntropyBackward(hp, hl, hgx, rows, cls, 1 / rows);
      expectClose(`ce backward ${rows}x${cls}`, down(hgx), gx, 1e-7, 1e-5);
      release();
    }
    const hx = up(randF(6)), hl = up(Int32Array.from([1, 7])), hp = empty(6);
    expect(() => cu.cudaCrossEntropyForward(hx, hl, hp, 2, 3)).toThrow(/cudaCrossEntropyForward: a label is outside \[0, 3\)/);
    release();
  });

  it('Adam (L2 weight decay) and SGD (momentum, dampening, Nesterov) over three steps', () => {
    const n = 2000;
    for (const wd of [0, 0.01]) {
      const p = randF(n), m = new Float32Array(n), v = new Float32Array(n);
      const [hp, hm, hv] = [up(p), up(m), up(v)];
      for (let step = 1; step <= 3; step++) {
        const g = randF(n);
        cpu('adamStep')(p, g, m, v, step, 1e-3, 0.9, 0.999, 1e-8, wd);
        cu.cudaAdamStep(hp, up(g), hm, hv, step, 1e-3, 0.9, 0.999, 1e-8, wd);
      }
      expectClose(`adam p wd=${wd}`, down(hp), p, 1e-6, 1e-5);
      expectClose(`adam m wd=${wd}`, down(hm), m, 1e-7, 1e-5);
      expectClose(`adam v wd=${wd}`, down(hv), v, 1e-8, 1e-5);
      release();
    }
    for (const [mom, damp, wd, nest] of [[0, 0, 0, false], [0.9, 0.1, 0, false], [0.9, 0, 5e-4, true]] as const) {
      const p = randF(n), buf = new Float32Array(n), hp = up(p), hb = mom ? up(buf) : null;
      for (let step = 0; step < 3; step++) {
        const g = randF(n);
        cpu('sgdStep')(p, g, mom ? buf : null, 0.1, mom, damp, wd, nest, step === 0);
        cu.cudaSgdStep(hp, up(g), hb, 0.1, mom, damp, wd, nest, step === 0);
      }
      expectClose(`sgd p mom=${mom} nesterov=${nest}`, down(hp), p, 1e-6, 1e-5);
      if (hb !== null) expectClose(`sgd buf mom=${mom}`, down(hb), buf, 1e-6, 1e-5);
      release();
    }
  });

  it('bad handles, lengths and aliasing are exceptions naming the op, never crashes', () => {
    const a = up(randF(8)), b = up(randF(8)), short = up(randF(3));
    expect(() => cu.cudaAdd(a, short, b)).toThrow(/^cudaAdd: b has 3 elements, expected 8/);
    expect(() => cu.cudaAdd(a, b, a)).toThrow(/^cudaAdd: out and a are the same device buffer/);
    expect(() => cu.cudaGemm(false, false, 2, 2, 4, 1, a, b, 0, short)).toThrow(/^cudaGemm: c has 3 elements, expected 4/);
    expect(() => cu.cudaRelu(a, 424242)).toThrow(/^cudaRelu: y \(handle 424242\) is not a live device buffer/);
    expect(() => cu.cudaUpload(a, new Float32Array(9))).toThrow(/^cudaUpload: destination buffer has 8 elements, expected 9/);
    expect(() => cu.cudaConv2dForward(a, b, null, short, Int32Array.from([1, 1, 2, 2, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1])))
      .toThrow(/^cudaConv2dForward: input size 2/);
    expect(() => cu.cudaMaxPool2dForward(a, b, short, Int32Array.from([1, 1]))).toThrow(/^cudaMaxPool2dForward: pool params/);
    expect(() => cu.cudaAlloc(-1)).toThrow(/^cudaAlloc: argument 0 must be a non-negative integer/);
    const before = cu.cudaLiveBuffers();
    release();
    expect(cu.cudaLiveBuffers()).toBe(before - 3);
    expect(() => cu.cudaFree(a)).toThrow(/^cudaFree: device buffer handle \d+ is unknown or already freed/);
    const z = cu.cudaAlloc(0);
    expect(cu.cudaSum(z)).toBe(0);
    cu.cudaFree(z);
  });
}
