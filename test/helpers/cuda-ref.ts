// Plain-loop JS versions of the CPU ops (same names and signatures as NativeBinding in
// src/native.ts), used as the reference for CUDA parity when the addon's own CPU op is absent.
import type { NativeBinding } from '../../src/native.js';

type F32 = Float32Array;
type I32 = Int32Array;

function convGeom(p: Int32Array) {
  const [N, C, H, W, O, KH, KW, sH, sW, pH, pW, dH, dW, G] = Array.from(p) as number[];
  const OH = Math.floor((H + 2 * pH - dH * (KH - 1) - 1) / sH) + 1;
  const OW = Math.floor((W + 2 * pW - dW * (KW - 1) - 1) / sW) + 1;
  return { N, C, H, W, O, KH, KW, sH, sW, pH, pW, dH, dW, G, OH, OW };
}

/** Calls f(yIndex, xIndex, wIndex) for every term of the convolution. */
function convTerms(p: Int32Array, f: (yi: number, xi: number, wi: number) => void): void {
  const g = convGeom(p);
  const Cg = g.C / g.G, Og = g.O / g.G;
  for (let n = 0; n < g.N; n++) for (let o = 0; o < g.O; o++) for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++)
    for (let cg = 0; cg < Cg; cg++) for (let kh = 0; kh < g.KH; kh++) for (let kw = 0; kw < g.KW; kw++) {
      const ih = oh * g.sH - g.pH + kh * g.dH, iw = ow * g.sW - g.pW + kw * g.dW;
      if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
      const c = Math.floor(o / Og) * Cg + cg;
      f(((n * g.O + o) * g.OH + oh) * g.OW + ow, ((n * g.C + c) * g.H + ih) * g.W + iw, ((o * Cg + cg) * g.KH + kh) * g.KW + kw);
    }
}

export function poolGeom(p: Int32Array) {
  const [N, C, H, W, KH, KW, sH, sW, pH, pW, dH, dW, ceil, cip] = Array.from(p) as number[];
  const out = (i: number, k: number, s: number, pad: number, d: number) => {
    let o = Math.floor((i + 2 * pad - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
    if (ceil && (o - 1) * s >= i + pad) o--;
    return o;
  };
  return { N, C, H, W, KH, KW, sH, sW, pH, pW, dH, dW, ceil, cip, OH: out(H, KH, sH, pH, dH), OW: out(W, KW, sW, pW, dW) };
}

function avgDiv(g: ReturnType<typeof poolGeom>, oh: number, ow: number): number {
  let hs = oh * g.sH - g.pH, ws = ow * g.sW - g.pW;
  let he = Math.min(hs + g.KH, g.H + g.pH), we = Math.min(ws + g.KW, g.W + g.pW);
  const size = (he - hs) * (we - ws);
  hs = Math.max(hs, 0); ws = Math.max(ws, 0); he = Math.min(he, g.H); we = Math.min(we, g.W);
  return g.cip ? size : (he - hs) * (we - ws);
}

export const jsCpu: Partial<NativeBinding> = {
  gemm(ta, tb, m, n, k, alpha, a, b, beta, c) {
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += (ta ? a[t * m + i] : a[i * k + t])! * (tb ? b[j * k + t] : b[t * n + j])!;
      c[i * n + j] = alpha * s + (beta !== 0 ? beta * c[i * n + j]! : 0);
    }
  },
  conv2dForward(x, w, bias, y, p) {
    const g = convGeom(p), acc = new Float64Array(y.length), ohw = g.OH * g.OW;
    convTerms(p, (yi, xi, wi) => { acc[yi]! += x[xi]! * w[wi]!; });
    for (let i = 0; i < y.length; i++) y[i] = acc[i]! + (bias ? bias[Math.floor(i / ohw) % g.O]! : 0);
  },
  conv2dBackwardData(gy, w, gx, p) {
    const acc = new Float64Array(gx.length);
    convTerms(p, (yi, xi, wi) => { acc[xi]! += gy[yi]! * w[wi]!; });
    gx.set(acc);
  },
  conv2dBackwardWeight(x, gy, gw, gb, p) {
    const g = convGeom(p), acc = new Float64Array(gw.length), ohw = g.OH * g.OW;
    convTerms(p, (yi, xi, wi) => { acc[wi]! += gy[yi]! * x[xi]!; });
    gw.set(acc);
    if (gb) { gb.fill(0); for (let i = 0; i < gy.length; i++) gb[Math.floor(i / ohw) % g.O]! += gy[i]!; }
  },
  maskedWeight(w, m, out) { for (let i = 0; i < w.length; i++) out[i] = w[i]! * (m[i]! > 0 ? 1 : 0); },
  maskGrad(g, w, gm) { for (let i = 0; i < g.length; i++) gm[i] = Math.min(1, Math.max(-1, g[i]! * w[i]!)); },
  countPositive(x) { let n = 0; for (const v of x) n += v > 0 ? 1 : 0; return n; },
  relu(x, y) { for (let i = 0; i < x.length; i++) y[i] = x[i]! > 0 ? x[i]! : 0; },
  reluBackward(y, gy, gx) { for (let i = 0; i < y.length; i++) gx[i] = y[i]! > 0 ? gy[i]! : 0; },
  add(a, b, out) { for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!; },
  mul(a, b, out) { for (let i = 0; i < a.length; i++) out[i] = a[i]! * b[i]!; },
  scale(a, s, out) { for (let i = 0; i < a.length; i++) out[i] = a[i]! * s; },
  axpy(alpha, x, y) { for (let i = 0; i < x.length; i++) y[i]! += alpha * x[i]!; },
  addScalar(x, s) { for (let i = 0; i < x.length; i++) x[i]! += s; },
  addRowBias(y, b, rows, cols) { for (let i = 0; i < rows * cols; i++) y[i]! += b[i % cols]!; },
  sumRows(g, out, rows, cols) {
    for (let c = 0; c < cols; c++) { let s = 0; for (let r = 0; r < rows; r++) s += g[r * cols + c]!; out[c] = s; }
  },
  sum(x) { let s = 0; for (const v of x) s += v; return s; },
  argmax(x, out, rows, cols) {
    for (let r = 0; r < rows; r++) {
      let at = 0;
      for (let c = 1; c < cols; c++) if (x[r * cols + c]! > x[r * cols + at]!) at = c;
      out[r] = at;
    }
  },
  batchNorm2dForward(x, gamma, beta, rm, rv, y, sm, si, n, c, hw, training, momentum, eps) {
    const M = n * hw;
    for (let ch = 0; ch < c; ch++) {
      let mean = rm[ch]!, v = rv[ch]!;
      if (training) {
        let s = 0, q = 0;
        for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) s += x[(i * c + ch) * hw + j]!;
        mean = s / M;
        for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) q += (x[(i * c + ch) * hw + j]! - mean) ** 2;
        v = q / M;
        rm[ch] = (1 - momentum) * rm[ch]! + momentum * mean;
        rv[ch] = (1 - momentum) * rv[ch]! + momentum * v * M / (M - 1);
      }
      sm[ch] = mean;
      si[ch] = 1 / Math.sqrt(v + eps);
      for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) {
        const o = (i * c + ch) * hw + j;
        y[o] = (x[o]! - mean) * si[ch]! * gamma[ch]! + beta[ch]!;
      }
    }
  },
  batchNorm2dBackward(x, gy, gamma, sm, si, gx, gg, gb, n, c, hw, training) {
    const M = n * hw;
    for (let ch = 0; ch < c; ch++) {
      let sg = 0, sgx = 0;
      const idx = (i: number, j: number) => (i * c + ch) * hw + j;
      for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) { sg += gy[idx(i, j)]!; sgx += gy[idx(i, j)]! * (x[idx(i, j)]! - sm[ch]!) * si[ch]!; }
      if (gg) gg[ch] = sgx;
      if (gb) gb[ch] = sg;
      for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) {
        const o = idx(i, j), xhat = (x[o]! - sm[ch]!) * si[ch]!;
        gx[o] = training ? gamma[ch]! * si[ch]! * (gy[o]! - sg / M - xhat * sgx / M) : gy[o]! * gamma[ch]! * si[ch]!;
      }
    }
  },
  maxPool2dForward(x, y, am, p) {
    const g = poolGeom(p);
    for (let nc = 0; nc < g.N * g.C; nc++) for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) {
      let best = -Infinity, at = -1;
      for (let kh = 0; kh < g.KH; kh++) for (let kw = 0; kw < g.KW; kw++) {
        const h = oh * g.sH - g.pH + kh * g.dH, w = ow * g.sW - g.pW + kw * g.dW;
        if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
        const v = x[(nc * g.H + h) * g.W + w]!;
        if (at < 0 || v > best) { best = v; at = h * g.W + w; }
      }
      y[(nc * g.OH + oh) * g.OW + ow] = best;
      am[(nc * g.OH + oh) * g.OW + ow] = at;
    }
  },
  maxPool2dBackward(gy, am, gx, p) {
    const g = poolGeom(p), ohw = g.OH * g.OW;
    gx.fill(0);
    for (let nc = 0; nc < g.N * g.C; nc++) for (let o = 0; o < ohw; o++) gx[nc * g.H * g.W + am[nc * ohw + o]!]! += gy[nc * ohw + o]!;
  },
  avgPool2dForward(x, y, p) {
    const g = poolGeom(p);
    for (let nc = 0; nc < g.N * g.C; nc++) for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) {
      let s = 0;
      const hs = oh * g.sH - g.pH, ws = ow * g.sW - g.pW;
      for (let h = Math.max(hs, 0); h < Math.min(hs + g.KH, g.H); h++)
        for (let w = Math.max(ws, 0); w < Math.min(ws + g.KW, g.W); w++) s += x[(nc * g.H + h) * g.W + w]!;
      y[(nc * g.OH + oh) * g.OW + ow] = s / avgDiv(g, oh, ow);
    }
  },
  avgPool2dBackward(gy, gx, p) {
    const g = poolGeom(p);
    gx.fill(0);
    for (let nc = 0; nc < g.N * g.C; nc++) for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) {
      const hs = oh * g.sH - g.pH, ws = ow * g.sW - g.pW, v = gy[(nc * g.OH + oh) * g.OW + ow]! / avgDiv(g, oh, ow);
      for (let h = Math.max(hs, 0); h < Math.min(hs + g.KH, g.H); h++)
        for (let w = Math.max(ws, 0); w < Math.min(ws + g.KW, g.W); w++) gx[(nc * g.H + h) * g.W + w]! += v;
    }
  },
  globalAvgPoolForward(x, y, nc, hw) {
    for (let i = 0; i < nc; i++) { let s = 0; for (let j = 0; j < hw; j++) s += x[i * hw + j]!; y[i] = s / hw; }
  },
  globalAvgPoolBackward(gy, gx, nc, hw) { for (let i = 0; i < nc * hw; i++) gx[i] = gy[Math.floor(i / hw)]! / hw; },
  crossEntropyForward(x, labels, probs, rows, cls) {
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      let mx = -Infinity, s = 0;
      for (let c = 0; c < cls; c++) mx = Math.max(mx, x[r * cls + c]!);
      for (let c = 0; c < cls; c++) s += Math.exp(x[r * cls + c]! - mx);
      for (let c = 0; c < cls; c++) probs[r * cls + c] = Math.exp(x[r * cls + c]! - mx) / s;
      loss += Math.log(s) - (x[r * cls + labels[r]!]! - mx);
    }
    return loss / rows;
  },
  crossEntropyBackward(probs, labels, gx, rows, cls, scale) {
    for (let i = 0; i < rows * cls; i++) gx[i] = (probs[i]! - (labels[Math.floor(i / cls)] === i % cls ? 1 : 0)) * scale;
  },
  adamStep(p, g, m, v, step, lr, b1, b2, eps, wd) {
    const bc1 = 1 - b1 ** step, bc2s = Math.sqrt(1 - b2 ** step);
    for (let i = 0; i < p.length; i++) {
      const gr = g[i]! + wd * p[i]!;
      m[i] = b1 * m[i]! + (1 - b1) * gr;
      v[i] = b2 * v[i]! + (1 - b2) * gr * gr;
      p[i] = p[i]! - (lr / bc1) * m[i]! / (Math.sqrt(v[i]!) / bc2s + eps);
    }
  },
  sgdStep(p, g, buf, lr, mom, damp, wd, nesterov, first) {
    for (let i = 0; i < p.length; i++) {
      let d = g[i]! + wd * p[i]!;
      if (mom !== 0 && buf) {
        buf[i] = first ? d : mom * buf[i]! + (1 - damp) * d;
        d = nesterov ? d + mom * buf[i]! : buf[i]!;
      }
      p[i] = p[i]! - lr * d;
    }
  },
};

export type { F32, I32 };
