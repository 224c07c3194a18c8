// Every case of ../shared/golden/ops.safetensors (written by PyTorch): forward values and
// gradients through the public ops and the autograd tape, and three optimiser steps.
import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/backward.js';
import * as ops from '../../src/ops/index.js';
import { Adam, SGD } from '../../src/optim/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { loadGolden, relErr, TOL_CONV_GEMM, TOL_ELEMENTWISE } from '../helpers/golden.js';

const golden = loadGolden('ops.safetensors');
const cases = JSON.parse(golden.metadata.cases) as Record<string, Record<string, unknown>>;
const leaf = (k: string): Tensor => golden.get(k).setRequiresGrad(true);

function close(what: string, out: Tensor | null, refKey: string, tol: number): void {
  expect(out, `${what}: no value`).not.toBeNull();
  const err = relErr(out!.data, golden.get(refKey).data);
  expect(err, `${what} vs ${refKey}: relative error ${err}`).toBeLessThan(tol);
}

describe('golden conv2d cases', () => {
  for (const [name, c] of Object.entries(cases).filter(([, c]) => c.op === 'conv2d')) {
    it(name, () => {
      const x = leaf(`${name}.x`);
      const w = leaf(`${name}.w`);
      const b = c.bias ? leaf(`${name}.b`) : null;
      const y = ops.conv2d(x, w, b, { stride: c.stride as number, padding: c.padding as number, dilation: c.dilation as number, groups: c.groups as number });
      close('y', y, `${name}.y`, TOL_CONV_GEMM);
      backward(y, golden.get(`${name}.gy`));
      close('gx', x.grad, `${name}.gx`, TOL_CONV_GEMM);
      close('gw', w.grad, `${name}.gw`, TOL_CONV_GEMM);
      if (b) close('gb', b.grad, `${name}.gb`, TOL_CONV_GEMM);
    });
  }
});

describe('golden masked layers (straight-through estimator)', () => {
  it('masked_conv', () => {
    const x = leaf('masked_conv.x');
    const w = golden.get('masked_conv.w');
    const m = leaf('masked_conv.m');
    const y = ops.conv2d(x, ops.maskedWeight(w, m), null, { stride: 1, padding: 1 });
    close('y', y, 'masked_conv.y', TOL_CONV_GEMM);
    backward(y, golden.get('masked_conv.gy'));
    close('gx', x.grad, 'masked_conv.gx', TOL_CONV_GEMM);
    close('gm', m.grad, 'masked_conv.gm', TOL_CONV_GEMM);
  });

  it('masked_linear (weight and bias masks)', () => {
    const x = leaf('masked_linear.x');
    const mw = leaf('masked_linear.mw');
    const mb = leaf('masked_linear.mb');
    const y = ops.linear(x, ops.maskedWeight(golden.get('masked_linear.w'), mw), ops.maskedWeight(golden.get('masked_linear.b'), mb));
    close('y', y, 'masked_linear.y', TOL_CONV_GEMM);
    backward(y, golden.get('masked_linear.gy'));
    close('gx', x.grad, 'masked_linear.gx', TOL_CONV_GEMM);
    close('gmw', mw.grad, 'masked_linear.gmw', TOL_CONV_GEMM);
    close('gmb', mb.grad, 'masked_linear.gmb', TOL_CONV_GEMM);
  });

  it('linear', () => {
    const [x, w, b] = ['x', 'w', 'b'].map((k) => leaf(`linear.${k}`));
    const y = ops.linear(x, w, b);
    close('y', y, 'linear.y', TOL_CONV_GEMM);
    backward(y, golden.get('linear.gy'));
    close('gx', x.grad, 'linear.gx', TOL_CONV_GEMM);
    close('gw', w.grad, 'linear.gw', TOL_CONV_GEMM);
    close('gb', b.grad, 'linear.gb', TOL_CONV_GEMM);
  });

  it('weight_ratio', () => {
    const m1 = leaf('weight_ratio.m1');
    const m2 = leaf('weight_ratio.m2');
    const r = ops.retainedRatio([m1, m2]);
    close('ratio', r, 'weight_ratio.ratio', TOL_ELEMENTWISE);
    backward(r);
    close('gm1', m1.grad, 'weight_ratio.gm1', TOL_ELEMENTWISE);
    close('gm2', m2.grad, 'weight_ratio.gm2', TOL_ELEMENTWISE);
  });
});

describe('golden batch norm', () => {
  for (const mode of ['eval', 'train']) {
    it(`bn_${mode}`, () => {
      const p = `bn_${mode}`;
      const c = cases[p];
      const x = leaf(`${p}.x`);
      const gamma = leaf(`${p}.weight`);
      const beta = leaf(`${p}.bias`);
      const rm = golden.get(`${p}.running_mean_in`);
      const rv = golden.get(`${p}.running_var_in`);
      const y = ops.batchNorm2d(x, gamma, beta, rm, rv, { training: c.training as boolean, momentum: c.momentum as number, eps: c.eps as number });
      close('y', y, `${p}.y`, TOL_ELEMENTWISE);
      close('running_mean', rm, `${p}.running_mean_out`, TOL_ELEMENTWISE);
      close('running_var', rv, `${p}.running_var_out`, TOL_ELEMENTWISE);
      backward(y, golden.get(`${p}.gy`));
      close('gx', x.grad, `${p}.gx`, TOL_ELEMENTWISE);
      close('gweight', gamma.grad, `${p}.gweight`, TOL_ELEMENTWISE);
      close('gbias', beta.grad, `${p}.gbias`, TOL_ELEMENTWISE);
    });
  }
});

describe('golden pooling, activation and loss', () => {
  const unary: Record<string, (x: Tensor) => Tensor> = {
    maxpool_k2s2: (x) => ops.maxPool2d(x, { kernelSize: 2, stride: 2 }),
    maxpool_k3s2p1: (x) => ops.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }),
    avgpool_k2s2: (x) => ops.avgPool2d(x, { kernelSize: 2, stride: 2 }),
    adaptive_avgpool_1: (x) => ops.adaptiveAvgPool2d(x, 1),
    relu: (x) => ops.relu(x),
  };
  for (const [name, fn] of Object.entries(unary)) {
    it(name, () => {
      const x = leaf(`${name}.x`);
      const y = fn(x);
      close('y', y, `${name}.y`, TOL_ELEMENTWISE);
      backward(y, golden.get(`${name}.gy`));
      close('gx', x.grad, `${name}.gx`, TOL_ELEMENTWISE);
    });
  }

  it('cross_entropy (mean)', () => {
    const z = leaf('cross_entropy.logits');
    const loss = ops.crossEntropy(z, golden.get('cross_entropy.labels'));
    close('loss', loss, 'cross_entropy.loss', TOL_ELEMENTWISE);
    backward(loss);
    close('glogits', z.grad, 'cross_entropy.glogits', TOL_ELEMENTWISE);
  });
});

describe('golden optimiser steps', () => {
  const make = (name: string, p: Tensor) => {
    const c = cases[name] as Record<string, number & number[]>;
    if (name.startsWith('adam')) return new Adam([p], { lr: c.lr, betas: [c.betas[0], c.betas[1]], eps: c.eps, weightDecay: c.weight_decay });
    return new SGD([p], { lr: c.lr, momentum: c.momentum, dampening: c.dampening, weightDecay: c.weight_decay, nesterov: Boolean(c.nesterov) });
  };
  for (const name of ['adam', 'adam_wd', 'sgd_momentum_wd']) {
    it(name, () => {
      const p = golden.get(`${name}.p0`).clone().setRequiresGrad(true);
      const opt = make(name, p);
      for (let i = 1; i <= 3; i++) {
        p.grad = golden.get(`${name}.g${i}`);
        opt.step();
        close(`p${i}`, p, `${name}.p${i}`, TOL_ELEMENTWISE);
      }
    });
  }
});
