// The fused eval-mode ops, conv + BatchNorm + residual + ReLU and BatchNorm + residual + ReLU, and
// the one place that decides when their fused kernels run: only where the backend has them (the
// CPU does) and, for the conv, only while BatchNorm's parameters need no gradient. Otherwise the
// same values and gradients come from the separate ops.
import { isGradEnabled, record, willRecord } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { conv2d, conv2dGeometry, type Conv2dOptions } from './conv.js';
import { savedStats } from './scratch.js';
import { add, relu } from './elementwise.js';
import { batchNorm2d, batchNormDims } from './norm.js';
import { expectSameShape, fail } from './util.js';

/** Running-statistics BatchNorm parameters for the fused ops. */
export interface BnEvalParams {
  gamma: Tensor;
  beta: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  eps: number;
}

const wantsGrad = (t: Tensor): boolean => isGradEnabled() && t.requiresGrad;

/** relu(batchNorm2d_eval(conv2d(x, w, b)) [+ residual]); gradients flow to every input that requires one. */
export function conv2dBnReluEval(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions, bn: BnEvalParams,
  residual: Tensor | null = null): Tensor {
  const op = 'conv2dBnReluEval';
  const be = backendOf(op, { input: x, weight: w, bias: b, residual, 'bn weight': bn.gamma, 'bn bias': bn.beta,
    running_mean: bn.runningMean, running_var: bn.runningVar });
  const fusedKernel = be.fused;
  if (!fusedKernel || wantsGrad(bn.gamma) || wantsGrad(bn.beta)) {
    return batchNormReluEval(conv2d(x, w, b, opts), bn.gamma, bn.beta, bn.runningMean, bn.runningVar, bn.eps, residual);
  }
  const { params, outShape } = conv2dGeometry(op, x, w, b, opts);
  const [n, o, oh, ow] = outShape;
  for (const [name, t] of [['weight', bn.gamma], ['bias', bn.beta], ['running_mean', bn.runningMean], ['running_var', bn.runningVar]] as const) {
    if (t.size !== o) fail(op, `batchnorm ${name} has shape ${shapeStr(t.shape)}, expected [${o}]`);
  }
  if (residual && (residual.ndim !== 4 || residual.shape.some((d, i) => d !== outShape[i]))) {
    fail(op, `residual ${shapeStr(residual.shape)} does not match the output ${shapeStr(outShape)}`);
  }
  const { k, f } = be;
  const y = be.uninit(outShape);
  const inputs = b ? [x, w, b] : [x, w];
  const nIn = inputs.length;
  if (residual) inputs.push(residual);
  const [saveMean, saveInvstd] = savedStats(be, o, willRecord(inputs));
  fusedKernel.conv2dForwardBnRelu(f(x), f(w), b && f(b), f(y), params, f(bn.gamma), f(bn.beta), f(bn.runningMean),
    f(bn.runningVar), bn.eps, residual && f(residual), f(saveMean), f(saveInvstd));
  return record(op, y, inputs, (gOut, needs) => {
    // Through ReLU and the BatchNorm scale: g = (y > 0 ? gy : 0) * gamma * invstd.
    const g = be.uninit(y.shape);
    const gres = residual && needs[nIn] ? be.uninit(y.shape) : null;
    fusedKernel.batchNormReluEvalBackward(f(y), f(gOut), f(bn.gamma), f(saveInvstd), f(g), gres && f(gres), n, o, oh * ow);
    const gx = needs[0] ? be.uninit(x.shape) : null;
    const gw = needs[1] || (b && needs[2]) ? be.uninit(w.shape) : null;
    const gb = b && needs[2] ? be.uninit(b.shape) : null;
    if (gx) k.conv2dBackwardData(f(g), f(w), f(gx), params);
    if (gw) k.conv2dBackwardWeight(f(x), f(g), f(gw), gb && f(gb), params);
    be.release(g);
    if (gw && !needs[1]) be.release(gw);
    const grads = [gx, needs[1] ? gw : null];
    if (b) grads.push(gb);
    if (residual) grads.push(gres);
    return grads;
  });
}

/** relu(batchNorm2d(x) [+ residual]) with running statistics (eval mode); gradients to x, gamma,
 *  beta and the residual are those of the three separate ops. */
export function batchNormReluEval(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor,
  eps = 1e-5, residual: Tensor | null = null): Tensor {
  const op = 'batchNormReluEval';
  const be = backendOf(op, { input: x, weight: gamma, bias: beta, running_mean: runningMean, running_var: runningVar, residual });
  const fusedKernel = be.fused;
  if (!fusedKernel) {
    const y = batchNorm2d(x, gamma, beta, runningMean, runningVar, { training: false, eps });
    return relu(residual ? add(y, residual) : y);
  }
  const [n, c, hw] = batchNormDims(op, x, gamma, beta, runningMean, runningVar, false);
  if (residual) expectSameShape(op, x, residual);
  const { k, f } = be;
  const y = be.uninit(x.shape);
  const inputs = residual ? [x, gamma, beta, residual] : [x, gamma, beta];
  const [saveMean, saveInvstd] = savedStats(be, c, willRecord(inputs));
  fusedKernel.batchNormReluEvalForward(f(x), residual && f(residual), f(gamma), f(beta), f(runningMean), f(runningVar), f(y),
    f(saveMean), f(saveInvstd), n, c, hw, eps);
  return record(op, y, inputs, (g, needs) => {
    if (needs[1] || needs[2]) {
      // Parameter gradients need the pre-activation gradient: take the two-step route.
      const gpre = be.uninit(x.shape);
      k.reluBackward(f(y), f(g), f(gpre));
      const gx = be.uninit(x.shape);
      const gg = needs[1] ? be.uninit(gamma.shape) : null;
      const gb = needs[2] ? be.uninit(beta.shape) : null;
      k.batchNorm2dBackward(f(x), f(gpre), f(gamma), f(saveMean), f(saveInvstd), f(gx), gg && f(gg), gb && f(gb), n, c, hw, false);
      return [needs[0] ? gx : null, gg, gb, gpre];
    }
    const gx = needs[0] ? be.uninit(x.shape) : null;
    const gr = residual && needs[3] ? be.uninit(x.shape) : null;
    fusedKernel.batchNormReluEvalBackward(f(y), f(g), f(gamma), f(saveInvstd), gx && f(gx), gr && f(gr), n, c, hw);
    return [gx, null, null, gr];
  });
}
