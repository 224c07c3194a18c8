// Adam with torch.optim.Adam semantics (L2 weight decay added to the gradient, bias correction).
import { adamStep } from '../backend/cuda-optim.js';
import { native } from '../native.js';
import { Tensor } from '../tensor/tensor.js';
import { Optimizer, buffer, type GroupSpec, type ParamState } from './optimizer.js';

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

  protected update(p: Tensor, g: Float32Array, s: ParamState, h: AdamHyper): void {
    const m = buffer(s, 'exp_avg', p.size);
    const v = buffer(s, 'exp_avg_sq', p.size);
    native.adamStep(p.f32, g, m, v, s.step, h.lr, h.betas[0], h.betas[1], h.eps, h.weightDecay);
  }

  protected override updateDevice(p: Tensor, g: Tensor, s: ParamState, h: AdamHyper): void {
    adamStep(p, g, s, h.lr, h.betas[0], h.betas[1], h.eps, h.weightDecay);
  }
}
