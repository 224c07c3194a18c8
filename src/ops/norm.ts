// BatchNorm2d with PyTorch semantics: batch statistics and running-stat update in training,
// running statistics in eval.
import * as cudaOps from '../backend/cuda-ops.js';
import { record } from '../autograd/node.js';
import { native } from '../native.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { expectRank, expectSameShape, fail, uninit as empty } from './util.js';

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
}

/** Checks a batch norm's arguments (on either device); returns [N, C, H*W] of the NCHW input. */
export function batchNormDims(op: string, x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor,
  training: boolean): [number, number, number] {
  expectRank(op, 'input', x, 4);
  const [n, c, h, w] = x.shape;
  for (const [name, t] of [['weight', gamma], ['bias', beta], ['running_mean', runningMean], ['running_var', runningVar]] as const) {
    if (t.size !== c) fail(op, `${name} has shape ${shapeStr(t.shape)}, expected [${c}] for input ${shapeStr(x.shape)}`);
  }
  if (training && n * h * w <= 1) fail(op, `training needs more than one value per channel, input ${shapeStr(x.shape)}`);
  return [n, c, h * w];
}

export function batchNorm2d(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, opts: BatchNormOptions): Tensor {
  if (cudaOps.anyDevice(x, gamma, beta) || cudaOps.anyDevice(runningMean, runningVar)) return cudaOps.batchNorm2d(x, gamma, beta, runningMean, runningVar, opts);
  const op = 'batchNorm2d';
  const [n, c, hw] = batchNormDims(op, x, gamma, beta, runningMean, runningVar, opts.training);
  const y = empty(x.shape);
  const saveMean = new Float32Array(c);
  const saveInvstd = new Float32Array(c);
  native.batchNorm2dForward(x.f32, gamma.f32, beta.f32, runningMean.f32, runningVar.f32, y.f32, saveMean, saveInvstd,
    n, c, hw, opts.training, opts.momentum ?? 0.1, opts.eps ?? 1e-5);
  return record(op, y, [x, gamma, beta], (g, needs) => {
    const gx = empty(x.shape);
    const gg = needs[1] ? empty(gamma.shape) : null;
    const gb = needs[2] ? empty(beta.shape) : null;
    native.batchNorm2dBackward(x.f32, g.f32, gamma.f32, saveMean, saveInvstd, gx.f32, gg ? gg.f32 : null, gb ? gb.f32 : null,
      n, c, hw, opts.training);
    return [needs[0] ? gx : null, gg, gb];
  });
}

/** relu(batchNorm2d(x) [+ residual]) with running statistics (eval mode) in one pass; the
 *  gradient is the same as that of the three separate ops (to x, gamma, beta and the residual). */
export function batchNormReluEval(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor,
  eps = 1e-5, residual: Tensor | null = null): Tensor {
  const op = 'batchNormReluEval';
  const [n, c, hw] = batchNormDims(op, x, gamma, beta, runningMean, runningVar, false);
  if (residual) expectSameShape(op, x, residual);
  const y = empty(x.shape);
  const saveMean = new Float32Array(c);
  const saveInvstd = new Float32Array(c);
  native.batchNormReluEvalForward(x.f32, residual ? residual.f32 : null, gamma.f32, beta.f32, runningMean.f32,
    runningVar.f32, y.f32, saveMean, saveInvstd, n, c, hw, eps);
  const inputs = residual ? [x, gamma, beta, residual] : [x, gamma, beta];
  return record(op, y, inputs, (g, needs) => {
    if (needs[1] || needs[2]) {
      // Parameter gradients need the pre-activation gradient: take the two-step route.
      const gpre = empty(x.shape);
      native.reluBackward(y.f32, g.f32, gpre.f32);
      const gx = empty(x.shape);
      const gg = needs[1] ? empty(gamma.shape) : null;
      const gb = needs[2] ? empty(beta.shape) : null;
      native.batchNorm2dBackward(x.f32, gpre.f32, gamma.f32, saveMean, saveInvstd, gx.f32, gg ? gg.f32 : null,
        gb ? gb.f32 : null, n, c, hw, false);
      return [needs[0] ? gx : null, gg, gb, gpre];
    }
    const gx = needs[0] ? empty(x.shape) : null;
    const gr = residual && needs[3] ? empty(x.shape) : null;
    native.batchNormReluEvalBackward(y.f32, g.f32, gamma.f32, saveInvstd, gx ? gx.f32 : null, gr ? gr.f32 : null,
      n, c, hw);
    return [gx, null, null, gr];
  });
}
