// Optimizer base: parameter groups with per-group hyper-parameters (as torch.optim), per-parameter
// state, zeroGrad, and a state snapshot so a run can be checkpointed and resumed exactly.
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
        this.update(p, p.grad.f32, s, group.hyper);
      }
    }
  }

  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.grad = null;
  }

  /** The state in parameter order (group by group), for checkpoints. */
  stateSnapshot(): { step: number; buffers: Record<string, Float32Array> }[] {
    const out: ParamState[] = [];
    for (const g of this.groups) {
      for (const p of g.params) {
        const s = this.state.get(p);
        out.push(s ? { step: s.step, buffers: Object.fromEntries(Object.entries(s.buffers).map(([k, v]) => [k, v.slice()])) } : { step: 0, buffers: {} });
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
      if (s.step === 0) this.state.delete(p);
      else this.state.set(p, { step: s.step, buffers: Object.fromEntries(Object.entries(s.buffers).map(([k, v]) => [k, v.slice()])) });
    });
  }
}

export function buffer(s: ParamState, name: string, size: number): Float32Array {
  return (s.buffers[name] ??= new Float32Array(size));
}
