// Layer normalisation over the trailing dimensions from `axis` (ONNX LayerNormalization,
// torch.nn.functional.layer_norm): per row y = (x - mean) / sqrt(var + eps) * gamma + beta, with
// the row means and inverse standard deviations as extra (non-differentiable) results.
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { axisView, normAxis } from './reduce-axes.js';
import { expectFloat, fail } from './util.js';

export interface LayerNormResult {
  y: Tensor;
  /** [...x.shape up to axis, 1, ...]: the statistics of every row, as ONNX returns them */
  mean: Tensor;
  invstd: Tensor;
}

export function layerNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, axis = -1, eps = 1e-5): LayerNormResult {
  const op = 'layerNorm';
  const be = backendOf(op, { input: x, weight: gamma, bias: beta });
  expectFloat(op, 'input', x);
  const a = normAxis(op, axis, x.ndim);
  const [rows, cols] = axisView(x.shape, a, x.ndim);
  for (const [name, t] of [['weight', gamma], ['bias', beta]] as const) {
    if (t && t.size !== cols) fail(op, `${name} ${shapeStr(t.shape)} does not match the ${cols} normalised values of ${shapeStr(x.shape)} from axis ${a}`);
  }
  const statShape = x.shape.map((d, i) => (i < a ? d : 1));
  const { k, f } = be;
  const y = be.uninit(x.shape);
  const mean = be.uninit(statShape);
  const invstd = be.uninit(statShape);
  k.layerNormForward(f(x), gamma && f(gamma), beta && f(beta), f(y), f(mean), f(invstd), rows, cols, eps);
  const inputs = [x, gamma, beta].filter((t): t is Tensor => t !== null);
  const out = record(op, y, inputs, (g, needs) => {
    let j = 1;
    const wantGamma = gamma ? needs[j++] : false;
    const wantBeta = beta ? needs[j++] : false;
    const gx = needs[0] ? be.uninit(x.shape) : null;
    const gg = wantGamma ? be.uninit(gamma!.shape) : null;
    const gb = wantBeta ? be.uninit(beta!.shape) : null;
    k.layerNormBackward(f(x), f(g), gamma && f(gamma), f(mean), f(invstd), gx && f(gx), gg && f(gg), gb && f(gb), rows, cols);
    const grads = [gx];
    if (gamma) grads.push(gg);
    if (beta) grads.push(gb);
    return grads;
  });
  return { y: out, mean, invstd };
}
