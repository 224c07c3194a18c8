// BatchNorm2d with PyTorch semantics: batch statistics and running-stat update in training,
// running statistics in eval. (The fused eval-mode BatchNorm + ReLU is in fused.ts.)
import { record, willRecord } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { expectRank, fail } from './util.js';
import { savedStats } from './scratch.js';

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
}

/** Checks a batch norm's arguments; returns [N, C, H*W] of the NCHW input. */
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
  const op = 'batchNorm2d';
  const be = backendOf(op, { input: x, weight: gamma, bias: beta, running_mean: runningMean, running_var: runningVar });
  const [n, c, hw] = batchNormDims(op, x, gamma, beta, runningMean, runningVar, opts.training);
  const { k, f } = be;
  const y = be.uninit(x.shape);
  const inputs = [x, gamma, beta];
  const [saveMean, saveInvstd] = savedStats(be, c, willRecord(inputs));
  k.batchNorm2dForward(f(x), f(gamma), f(beta), f(runningMean), f(runningVar), f(y), f(saveMean), f(saveInvstd),
    n, c, hw, opts.training, opts.momentum ?? 0.1, opts.eps ?? 1e-5);
  return record(op, y, inputs, (g, needs) => {
    const gx = be.uninit(x.shape);
    const gg = needs[1] ? be.uninit(gamma.shape) : null;
    const gb = needs[2] ? be.uninit(beta.shape) : null;
    k.batchNorm2dBackward(f(x), f(g), f(gamma), f(saveMean), f(saveInvstd), f(gx), gg && f(gg), gb && f(gb), n, c, hw, opts.training);
    if (!needs[0]) be.release(gx);
    return [needs[0] ? gx : null, gg, gb];
  });
}
