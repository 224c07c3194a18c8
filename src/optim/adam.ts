// Adam with torch.optim.Adam semantics (L2 weight decay added to the gradient, bias correction).
import type { Backend } from '../backend/kernels.js';
import { Tensor } from '../tensor/tensor.js';
import { Optimizer, type GroupSpec, type ParamState } from './optimizer.js';

export interface AdamHyper {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

export class Adam extends Optimizer<AdamHyper> {
  constructor(params: Tensor[] | GroupSpec<AdamHyper>[], defaults: Partial<AdamHyper> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...defaults });
  }

  protected validate(h: AdamHyper): void {
    if (!(h.lr >= 0)) throw new Error(`Adam: invalid learning rate ${h.lr}`);
    if (!(h.eps >= 0)) throw new Error(`Adam: invalid epsilon ${h.eps}`);
    for (const b of h.betas) if (!(b >= 0 && b < 1)) throw new Error(`Adam: invalid beta ${b}`);
    if (!(h.weightDecay >= 0)) throw new Error(`Adam: invalid weight decay ${h.weightDecay}`);
  }

  protected update(be: Backend, p: Tensor, g: Tensor, s: ParamState, h: AdamHyper): void {
    const m = this.buffer(s, 'exp_avg', p);
    const v = this.buffer(s, 'exp_avg_sq', p);
    be.k.adamStep(be.f(p), be.f(g), be.f(m), be.f(v), s.step, h.lr, h.betas[0], h.betas[1], h.eps, h.weightDecay);
  }
}
