// Optimizer base: parameter groups with per-group hyper-parameters (as torch.optim), per-parameter
// state, zeroGrad, and a state snapshot so a run can be checkpointed and resumed exactly.
import { disposeState, hostBuffers, stateToHost } from '../backend/cuda-optim.js';
import { Tensor } from '../tensor/tensor.js';

export interface ParamGroup<H> {
  params: Tensor[];
  hyper: H;
}

export type GroupSpec<H> = { params: Tensor[] } & Partial<H>;

/** Per-parameter state: a step count and named buffers. */
export interface ParamState {
  step: number;
  buffers: Record<string, Float32Array>;
  /** the same buffers on the parameter's device, for device parameters (see backend/cuda-optim.ts) */
  device?: Record<string, Tensor>;
}

export abstract class Optimizer<H extends object> {
  readonly groups: ParamGroup<H>[];
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(params: Tensor[] | GroupSpec<H>[], defaults: H) {
    const specs: GroupSpec<H>[] = params.length > 0 && params[0] instanceof Tensor
      ? [{ params: params as Tensor[] } as GroupSpec<H>]
      : (params as GroupSpec<H>[]);
    this.groups = specs.map((spec) => {
      const { params: ps, ...over } = spec;
      const hyper = { ...defaults, ...(over as Partial<H>) };
      this.validate(hyper);
      return { params: ps, hyper };
    });
    const seen = new Set<Tensor>();
    for (const g of this.groups) {
      for (const p of g.params) {
        if (seen.has(p)) throw new Error(`${this.constructor.name}: a parameter appears in more than one group`);
        seen.add(p);
      }
    }
  }

  protected abstract validate(h: H): void;
  protected abstract update(p: Tensor, g: Float32Array, s: ParamState, h: H): void;

  /** The update for a device parameter (fused CUDA kernels); g is on p's device. */
  protected updateDevice(p: Tensor, _g: Tensor, _s: ParamState, _h: H): void {
    throw new Error(`${this.constructor.name}: parameters on ${p.device} are not supported`);
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    for (const group of this.groups) {
      for (const p of group.params) {
        if (!p.grad) continue;
        let s = this.state.get(p);
        if (!s) {
          s = { step: 0, buffers: {} };
          this.state.set(p, s);
        }
        s.step += 1;
        if (p.device !== 'cpu') {
          this.updateDevice(p, p.grad, s, group.hyper);
          continue;
        }
        if (s.device) stateToHost(s);
        if (p.grad.device !== 'cpu') throw new Error(`${this.constructor.name}.step: parameter ${p.name ?? ''} on cpu, its gradient on ${p.grad.device}`);
        this.update(p, p.grad.f32, s, group.hyper);
      }
    }
  }

  /** Drops the gradients (device gradients are freed: copy them first if you need them after). */
  zeroGrad(): void {
    for (const g of this.groups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** Forgets all per-parameter state and frees device state buffers (call when done with the optimizer). */
  dispose(): void {
    for (const s of this.state.values()) disposeState(s);
    this.state.clear();
  }

  /** The state in parameter order (group by group), for checkpoints. */
  stateSnapshot(): { step: number; buffers: Record<string, Float32Array> }[] {
    const out: ParamState[] = [];
    for (const g of this.groups) {
      for (const p of g.params) {
        const s = this.state.get(p);
        out.push(s ? { step: s.step, buffers: hostBuffers(s) } : { step: 0, buffers: {} });
      }
    }
    return out;
  }

  loadStateSnapshot(snap: { step: number; buffers: Record<string, Float32Array> }[]): void {
    const params = this.groups.flatMap((g) => g.params);
    if (snap.length !== params.length) {
      throw new Error(`${this.constructor.name}: state for ${snap.length} parameters, optimizer has ${params.length}`);
    }
    params.forEach((p, i) => {
      const s = snap[i];
      for (const [k, v] of Object.entries(s.buffers)) {
        if (v.length !== p.size) throw new Error(`${this.constructor.name}: state buffer ${k} of parameter ${i} has ${v.length} elements, expected ${p.size}`);
      }
      disposeState(this.state.get(p));
      if (s.step === 0) this.state.delete(p);
      else this.state.set(p, { step: s.step, buffers: Object.fromEntries(Object.entries(s.buffers).map(([k, v]) => [k, v.slice()])) });
    });
  }
}

export function buffer(s: ParamState, name: string, size: number): Float32Array {
  return (s.buffers[name] ??= new Float32Array(size));
}
