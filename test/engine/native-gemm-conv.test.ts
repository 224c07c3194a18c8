// The native gemm / conv2d entry points against naive JS loops and PyTorch golden data, and
// their argument checking: bad calls throw an Error naming the op, nothing crashes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native.js';
import { goldenPath } from '../helpers/golden.js';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s / 4294967296) * 2 - 1;
  };
}
const rand = (r: () => number, n: number) => Float32Array.from({ length: n }, r);

function relErr(got: Float32Array, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < got.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

function naiveGemm(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number,
                   a: Float32Array, b: Float32Array, beta: number, c: Float32Array): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
    out[i * n + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * n + j]);
  }
  return out;
}

type P = number[]; // [N,C,H,W,O,KH,KW,SH,SW,PH,PW,DH,DW,G]
function outSize(p: P): [number, number] {
  const [, , H, W, , KH, KW, SH, SW, PH, PW, DH, DW] = p;
  return [Math.floor((H + 2 * PH - DH * (KH - 1) - 1) / SH) + 1, Math.floor((W + 2 * PW - DW * (KW - 1) - 1) / SW) + 1];
}

/** y, gx, gw, gb of a conv by direct loops. */
function naiveConv(p: P, x: Float32Array, w: Float32Array, b: Float32Array | null, gy: Float32Array) {
  const [N, C, H, W, O, KH, KW, SH, SW, PH, PW, DH, DW, G] = p;
  const [OH, OW] = outSize(p);
  const cg = C / G, og = O / G;
  const y = new Float64Array(N * O * OH * OW), gx = new Float64Array(x.length), gw = new Float64Array(w.length);
  const gb = new Float64Array(O);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const yi = ((n * O + o) * OH + oh) * OW + ow;
    y[yi] = b ? b[o] : 0;
    gb[o] += gy[yi];
    const g = Math.floor(o / og);
    for (let c = 0; c < cg; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const ih = oh * SH - PH + kh * DH, iw = ow * SW - PW + kw * DW;
      if (ih < 0 || iw < 0 || ih >= H || iw >= W) continue;
      const xi = ((n * C + g * cg + c) * H + ih) * W + iw, wi = ((o * cg + c) * KH + kh) * KW + kw;
      y[yi] += x[xi] * w[wi];
      gx[xi] += gy[yi] * w[wi];
      gw[wi] += gy[yi] * x[xi];
    }
  }
  return { y, gx, gw, gb };
}

function runConv(p: P, x: Float32Array, w: Float32Array, b: Float32Array | null, gy: Float32Array) {
  const params = Int32Array.from(p);
  const y = new Float32Array(gy.length), gx = new Float32Array(x.length), gw = new Float32Array(w.length);
  const gb = new Float32Array(p[4]);
  native.conv2dForward(x, w, b, y, params);
  native.conv2dBackwardData(gy, w, gx, params);
  native.conv2dBackwardWeight(x, gy, gw, gb, params);
  return { y, gx, gw, gb };
}

describe('native gemm', () => {
  it('matches a naive product for every transpose and alpha/beta', () => {
    const r = rng(7);
    for (const [m, n, k] of [[1, 1, 1], [5, 7, 3], [33, 65, 17], [70, 40, 300], [128, 96, 64]]) {
      for (const ta of [false, true]) for (const tb of [false, true]) {
        const a = rand(r, m * k), b = rand(r, k * n), c = rand(r, m * n);
        const want = naiveGemm(ta, tb, m, n, k, 0.5, a, b, 2, c);
        native.gemm(ta, tb, m, n, k, 0.5, a, b, 2, c);
        expect(relErr(c, want)).toBeLessThan(1e-5);
      }
    }
  });

  it('throws naming the op on bad lengths instead of crashing', () => {
    const a = new Float32Array(6), b = new Float32Array(6), c = new Float32Array(4);
    expect(() => native.gemm(false, false, 2, 2, 3, 1, a, b, 0, c)).not.toThrow();
    expect(() => native.gemm(false, false, 2, 2, 4, 1, a, b, 0, c)).toThrow(/^gemm: a has 6 elements/);
    expect(() => native.gemm(false, false, 2, 3, 3, 1, a, new Float32Array(9), 0, c)).toThrow(/^gemm: c has 4 elements/);
    expect(() => native.gemm(false, false, -2, 2, 3, 1, a, b, 0, c)).toThrow(/^gemm:/);
    expect(() => native.gemm(false, false, 2, 2, 3, 1, a, a, 0, c)).not.toThrow(); // inputs may alias
    expect(() => native.gemm(false, false, 2, 2, 3, 1, a, b, 0, a.subarray(0, 4))).toThrow(/^gemm:.*alias/);
  });
});

describe('native conv2d', () => {
  const cases: [string, P][] = [
    ['3x3 pad 1 with bias', [2, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1]],
    ['stride 2', [2, 4, 10, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1]],
    ['1x1 stride 1', [3, 8, 5, 7, 6, 1, 1, 1, 1, 0, 0, 1, 1, 1]],
    ['depthwise', [2, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4]],
    ['groups + dilation + asymmetric', [2, 6, 8, 7, 4, 3, 2, 1, 2, 2, 1, 2, 1, 2]],
    ['small maps batched', [7, 16, 2, 2, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1]],
  ];
  for (const [name, p] of cases) {
    it(`matches direct loops: ${name}`, () => {
      const r = rng(p.reduce((s, v) => s * 31 + v, 1));
      const [N, C, H, W, O, KH, KW, , , , , , , G] = p;
      const [OH, OW] = outSize(p);
      const x = rand(r, N * C * H * W), w = rand(r, O * (C / G) * KH * KW), b = rand(r, O);
      const gy = rand(r, N * O * OH * OW);
      const want = naiveConv(p, x, w, b, gy);
      const got = runConv(p, x, w, b, gy);
      for (const k of ['y', 'gx', 'gw', 'gb'] as const) expect(relErr(got[k], want[k]), k).toBeLessThan(1e-5);
    });
  }

  it('matches the PyTorch golden conv cases', () => {
    const buf = readFileSync(goldenPath('ops.safetensors'));
    const hlen = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8'));
    const cases = JSON.parse(header.__metadata__.cases) as Record<string, Record<string, unknown>>;
    const get = (key: string) => {
      const e = header[key];
      if (!e) return null;
      const [s, t] = e.data_offsets as [number, number];
      const bytes = buf.subarray(8 + hlen + s, 8 + hlen + t);
      return { data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), shape: e.shape as number[] };
    };
    let seen = 0;
    for (const [name, meta] of Object.entries(cases)) {
      if (meta.op !== 'conv2d') continue;
      const x = get(`${name}.x`)!, w = get(`${name}.w`)!, gy = get(`${name}.gy`)!, b = get(`${name}.b`);
      const [s, pd, d, g] = [meta.stride, meta.padding, meta.dilation, meta.groups] as number[];
      const [N, C, H, W] = x.shape, [O, , KH, KW] = w.shape;
      const p = [N, C, H, W, O, KH, KW, s, s, pd, pd, d, d, g];
      const got = runConv(p, x.data, w.data, b ? b.data : null, gy.data);
      for (const k of ['y', 'gx', 'gw'] as const) expect(relErr(got[k], get(`${name}.${k}`)!.data), `${name}.${k}`).toBeLessThan(1e-4);
      const gb = get(`${name}.gb`);
      if (gb) expect(relErr(got.gb, gb.data), `${name}.gb`).toBeLessThan(1e-4);
      seen++;
    }
    expect(seen).toBeGreaterThanOrEqual(6);
  });

  it('throws naming the op and shapes on bad calls', () => {
    const p = Int32Array.from([2, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
    const x = new Float32Array(2 * 3 * 81), w = new Float32Array(4 * 27), y = new Float32Array(2 * 4 * 81);
    expect(() => native.conv2dForward(x, w, null, y, p)).not.toThrow();
    expect(() => native.conv2dForward(new Float32Array(100), w, null, y, p))
      .toThrow(/^conv2dForward: x has 100 elements, expected N\*C\*H\*W = 2\*3\*9\*9=486/);
    expect(() => native.conv2dForward(x, w, new Float32Array(3), y, p)).toThrow(/^conv2dForward: bias has 3/);
    const bad = (i: number, v: number) => { const q = p.slice(); q[i] = v; return q; };
    expect(() => native.conv2dForward(x, w, null, y, bad(7, -1))).toThrow(/^conv2dForward: strideH must be >= 1, got -1/);
    expect(() => native.conv2dBackwardData(y, w, x, bad(13, 2))).toThrow(/^conv2dBackwardData: groups=2 must divide C=3/);
    expect(() => native.conv2dBackwardWeight(x, y, w, null, bad(5, 30))).toThrow(/^conv2dBackwardWeight: output size/);
    expect(() => native.conv2dBackwardWeight(x, y, new Float32Array(5), null, p)).toThrow(/^conv2dBackwardWeight: gw has 5/);
    expect(() => native.conv2dBackwardData(y, w, new Float32Array(1), p)).toThrow(/^conv2dBackwardData: gx has 1/);
    expect(() => native.conv2dForward(x, w, null, y, new Int32Array(3))).toThrow(/^conv2dForward: params/);
    expect(() => native.conv2dForward(x, w, null, x, p)).toThrow(/^conv2dForward:/);
    // Still alive and correct after all that.
    native.conv2dForward(x, w, null, y, p);
  });
});
