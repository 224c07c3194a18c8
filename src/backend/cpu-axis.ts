// CPU kernels along one axis of a tensor seen as [outer, r, inner] (reductions, softmax) and per
// row (layer norm), for imported graphs. JS over typed arrays; accumulation in float64.
import { checkLengths } from './cpu-maps.js';

type F32 = Float32Array;

function checkAxis(op: string, x: F32, outer: number, r: number, inner: number): void {
  if (![outer, r, inner].every((v) => Number.isInteger(v) && v >= 0) || x.length !== outer * r * inner) {
    throw new Error(`${op}: buffer of ${x.length} elements is not [${outer}, ${r}, ${inner}]`);
  }
}

export const axisKernels = {
  sumAxis(x: F32, y: F32, outer: number, r: number, inner: number, scale: number): void {
    checkAxis('sumAxis', x, outer, r, inner);
    checkLengths('sumAxis', outer * inner, y);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let j = 0, p = o * r * inner + i; j < r; j++, p += inner) s += x[p];
        y[o * inner + i] = scale * s;
      }
    }
  },
  expandAxis(g: F32, gx: F32, outer: number, r: number, inner: number, scale: number): void {
    checkAxis('expandAxis', gx, outer, r, inner);
    checkLengths('expandAxis', outer * inner, g);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < r; j++) {
        const dst = (o * r + j) * inner;
        for (let i = 0; i < inner; i++) gx[dst + i] = scale * g[o * inner + i];
      }
    }
  },
  maxAxis(x: F32, y: F32, arg: Int32Array, outer: number, r: number, inner: number, min: boolean): void {
    checkAxis('maxAxis', x, outer, r, inner);
    checkLengths('maxAxis', outer * inner, y, arg);
    if (r === 0) throw new Error('maxAxis: cannot reduce an empty axis');
    const sign = min ? -1 : 1;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * r * inner + i;
        let best = sign * x[base];
        let at = 0;
        for (let j = 1; j < r; j++) {
          const v = sign * x[base + j * inner];
          if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
            best = v;
            at = j;
          }
        }
        y[o * inner + i] = sign * best;
        arg[o * inner + i] = at;
      }
    }
  },
  maxAxisBackward(g: F32, arg: Int32Array, gx: F32, outer: number, r: number, inner: number): void {
    checkAxis('maxAxisBackward', gx, outer, r, inner);
    checkLengths('maxAxisBackward', outer * inner, g, arg);
    gx.fill(0);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) gx[(o * r + arg[o * inner + i]) * inner + i] = g[o * inner + i];
    }
  },
  softmax(x: F32, y: F32, outer: number, r: number, inner: number, log: boolean): void {
    checkAxis('softmax', x, outer, r, inner);
    checkLengths('softmax', x.length, y);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * r * inner + i;
        let m = -Infinity;
        for (let j = 0; j < r; j++) m = Math.max(m, x[base + j * inner]);
        let s = 0;
        for (let j = 0; j < r; j++) s += Math.exp(x[base + j * inner] - m);
        const lse = m + Math.log(s);
        for (let j = 0; j < r; j++) {
          const p = base + j * inner;
          y[p] = log ? x[p] - lse : Math.exp(x[p] - lse);
        }
      }
    }
  },
  softmaxBackward(y: F32, gy: F32, gx: F32, outer: number, r: number, inner: number, log: boolean): void {
    checkAxis('softmaxBackward', y, outer, r, inner);
    checkLengths('softmaxBackward', y.length, gy, gx);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * r * inner + i;
        let dot = 0;
        for (let j = 0; j < r; j++) dot += log ? gy[base + j * inner] : gy[base + j * inner] * y[base + j * inner];
        for (let j = 0; j < r; j++) {
          const p = base + j * inner;
          gx[p] = log ? gy[p] - Math.exp(y[p]) * dot : y[p] * (gy[p] - dot);
        }
      }
    }
  },
  layerNormForward(x: F32, gamma: F32 | null, beta: F32 | null, y: F32, mean: F32, invstd: F32, rows: number, cols: number, eps: number): void {
    checkAxis('layerNormForward', x, rows, cols, 1);
    checkLengths('layerNormForward', x.length, y);
    checkLengths('layerNormForward', rows, mean, invstd);
    checkLengths('layerNormForward', cols, gamma, beta);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let c = 0; c < cols; c++) s += x[o + c];
      const mu = s / cols;
      let v = 0;
      for (let c = 0; c < cols; c++) v += (x[o + c] - mu) ** 2;
      const is = 1 / Math.sqrt(v / cols + eps);
      mean[r] = mu;
      invstd[r] = is;
      for (let c = 0; c < cols; c++) y[o + c] = (x[o + c] - mu) * is * (gamma ? gamma[c] : 1) + (beta ? beta[c] : 0);
    }
  },
  layerNormBackward(x: F32, gy: F32, gamma: F32 | null, mean: F32, invstd: F32, gx: F32 | null, ggamma: F32 | null, gbeta: F32 | null,
    rows: number, cols: number): void {
    checkAxis('layerNormBackward', x, rows, cols, 1);
    checkLengths('layerNormBackward', x.length, gy, gx);
    checkLengths('layerNormBackward', rows, mean, invstd);
    checkLengths('layerNormBackward', cols, gamma, ggamma, gbeta);
    ggamma?.fill(0);
    gbeta?.fill(0);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const mu = mean[r];
      const is = invstd[r];
      let sumG = 0;
      let sumGX = 0;
      for (let c = 0; c < cols; c++) {
        const xhat = (x[o + c] - mu) * is;
        const g = gy[o + c] * (gamma ? gamma[c] : 1);
        sumG += g;
        sumGX += g * xhat;
        if (ggamma) ggamma[c] += gy[o + c] * xhat;
        if (gbeta) gbeta[c] += gy[o + c];
      }
      if (!gx) continue;
      for (let c = 0; c < cols; c++) {
        const xhat = (x[o + c] - mu) * is;
        const g = gy[o + c] * (gamma ? gamma[c] : 1);
        gx[o + c] = is * (g - sumG / cols - xhat * (sumGX / cols));
      }
    }
  },
};
