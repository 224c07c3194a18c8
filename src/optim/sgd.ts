// SGD with torch.optim.SGD semantics (momentum buffer initialised with the first gradient,
// dampening, Nesterov, L2 weight decay).
import type { Backend } from '../backend/kernels.js';
import { Tensor } from '../tensor/tensor.js';
import { Optimizer, type GroupSpec, type ParamState } from './optimizer.js';

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SGD extends Optimizer<SgdHyper> {
  constructor(params: Tensor[] | GroupSpec<SgdHyper>[], defaults: Partial<SgdHyper> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...defaults });
  }

  protected validate(h: SgdHyper): void {
    if (!(h.lr >= 0)) throw new Error(`SGD: invalid learning rate ${h.lr}`);
    if (!(h.momentum >= 0)) throw new Error(`SGD: invalid momentum ${h.momentum}`);
    if (!(h.weightDecay >= 0)) throw new Error(`SGD: invalid weight decay ${h.weightDecay}`);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) throw new Error('SGD: Nesterov momentum needs momentum > 0 and dampening 0');
  }

  protected update(be: Backend, p: Tensor, g: Tensor, s: ParamState, h: SgdHyper): void {
    const buf = h.momentum !== 0 ? this.buffer(s, 'momentum_buffer', p) : null;
    be.k.sgdStep(be.f(p), be.f(g), buf && be.f(buf), h.lr, h.momentum, h.dampening, h.weightDecay, h.nesterov, s.step === 1);
  }
}
