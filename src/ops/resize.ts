// Resizing (ONNX Resize / Upsample, torch's interpolate): every output element is a weighted sum
// of input elements, the product over the resized axes of each axis's taps (util/resample.ts);
// the gradient scatters back with the same weights.
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, numel, shapeStr } from '../tensor/tensor.js';
import type { AxisResample } from '../util/resample.js';
import { expectFloat, fail } from './util.js';

/** x resized along the axes that have an AxisResample (null: kept). */
export function resize(x: Tensor, axes: readonly (AxisResample | null)[]): Tensor {
  const op = 'resize';
  const be = backendOf(op, { input: x });
  expectFloat(op, 'input', x);
  if (axes.length !== x.ndim) fail(op, `${axes.length} axis specifications for ${shapeStr(x.shape)}`);
  const outShape = x.shape.map((d, i) => (axes[i] ? axes[i]!.index.length / axes[i]!.taps : d));
  const taps = axes.reduce((p, a) => p * (a ? a.taps : 1), 1);
  const n = numel(outShape);
  const index = new Int32Array(n * taps);
  const weight = new Float32Array(n * taps);
  const inStrides = x.shape.map((_, i) => numel(x.shape.slice(i + 1)));
  const coord = new Array<number>(x.ndim).fill(0);
  const tap = new Array<number>(x.ndim).fill(0);
  for (let k = 0; k < n; k++) {
    // every combination of the axes' taps for output coordinate `coord`
    tap.fill(0);
    for (let t = 0; t < taps; t++) {
      let off = 0;
      let w = 1;
      for (let d = 0; d < x.ndim; d++) {
        const a = axes[d];
        if (!a) {
          off += coord[d] * inStrides[d];
          continue;
        }
        const j = coord[d] * a.taps + tap[d];
        off += a.index[j] * inStrides[d];
        w *= a.weight[j];
      }
      index[k * taps + t] = off;
      weight[k * taps + t] = w;
      for (let d = x.ndim - 1; d >= 0; d--) {
        const a = axes[d];
        if (!a) continue;
        if (++tap[d] < a.taps) break;
        tap[d] = 0;
      }
    }
    for (let d = x.ndim - 1; d >= 0; d--) {
      if (++coord[d] < outShape[d]) break;
      coord[d] = 0;
    }
  }
  const { k, f } = be;
  const y = be.uninit(outShape);
  k.gatherTaps(f(x), index, weight, taps, f(y));
  return record(op, y, [x], (g) => {
    const gx = be.zeros(x.shape);
    k.scatterTaps(f(g), index, weight, taps, f(gx));
    return [gx];
  });
}
