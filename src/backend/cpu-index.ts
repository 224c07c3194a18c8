// CPU kernels that follow index maps computed on the host (gather with a fill value, interpolation
// taps and their scatter) and the batched GEMM of imported graphs' activation products.
import { native } from '../native.js';
import { checkLengths } from './cpu-maps.js';

type F32 = Float32Array;

export const indexKernels = {
  gatherFill(x: F32, index: Int32Array, fill: number, y: F32): void {
    checkLengths('gatherFill', y.length, index);
    for (let k = 0; k < y.length; k++) {
      const i = index[k];
      if (i >= x.length) throw new Error(`gatherFill: index ${i} out of range for ${x.length} elements`);
      y[k] = i >= 0 ? x[i] : fill;
    }
  },
  gatherTaps(x: F32, index: Int32Array, weight: Float32Array, taps: number, y: F32): void {
    checkLengths('gatherTaps', y.length * taps, index, weight);
    for (let k = 0; k < y.length; k++) {
      let s = 0;
      for (let t = k * taps; t < (k + 1) * taps; t++) {
        const i = index[t];
        if (i >= x.length) throw new Error(`gatherTaps: index ${i} out of range for ${x.length} elements`);
        if (i >= 0) s += weight[t] * x[i];
      }
      y[k] = s;
    }
  },
  scatterTaps(g: F32, index: Int32Array, weight: Float32Array, taps: number, gx: F32): void {
    checkLengths('scatterTaps', g.length * taps, index, weight);
    for (let k = 0; k < g.length; k++) {
      for (let t = k * taps; t < (k + 1) * taps; t++) {
        const i = index[t];
        if (i >= gx.length) throw new Error(`scatterTaps: index ${i} out of range for ${gx.length} elements`);
        if (i >= 0) gx[i] += weight[t] * g[k];
      }
    }
  },
  gemmBatched(transA: boolean, transB: boolean, batch: number, m: number, n: number, k: number, alpha: number,
    a: F32, sa: number, b: F32, sb: number, beta: number, c: F32, sc: number): void {
    const need = (stride: number, size: number): number => (batch > 0 ? (batch - 1) * stride + size : 0);
    if (a.length < need(sa, m * k) || b.length < need(sb, k * n) || c.length < need(sc, m * n)) {
      throw new Error(`gemmBatched: buffers of ${a.length}, ${b.length}, ${c.length} elements are too short for ${batch} x [${m}x${k}] x [${k}x${n}]`);
    }
    for (let i = 0; i < batch; i++) {
      native.gemm(transA, transB, m, n, k, alpha, a.subarray(i * sa, i * sa + m * k), b.subarray(i * sb, i * sb + k * n), beta,
        c.subarray(i * sc, i * sc + m * n));
    }
  },
};
