// Optimizer base: parameter groups with per-group hyper-parameters (as torch.optim), per-parameter
// state, zeroGrad, and a state snapshot so a run can be checkpointed and resumed exactly. One
// step() for every device: the state buffers live beside the parameter (moved with it) and the
// update is one kernel of the parameter's backend.
import { backendFor, backendOf } from '../backend/dispatch.js';
import type { Backend } from '../backend/kernels.js';
import { keepTensor } from '../backend/storage.js';
import { Tensor } from '../tensor/tensor.js';

export interface ParamGroup<H> {
  params: Tensor[];
  hyper: H;
}

export type GroupSpec<H> = { params: Tensor[] } & Partial<H>;

/** Per-parameter state: a step count and named buffers (exp_avg, momentum_buffer, ...) on the
 *  parameter's device. */
export interface ParamState {
  step: number;
  buffers: Record<string, Tensor>;
}

/** The host form of a parameter's state, for checkpoints. */
export interface ParamStateSnapshot {
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
  /** One update of p from its gradient g (both on be's device; s.step already counts this one). */
  protected abstract update(be: Backend, p: Tensor, g: Tensor, s: ParamState, h: H): void;

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    const op = `${this.constructor.name}.step`;
    for (const group of this.groups) {
      for (const p of group.params) {
        const g = p.grad;
        if (!g) continue;
        const be = backendOf(op, { parameter: p, gradient: g });
        if (g.size !== p.size) throw new Error(`${op}: gradient of ${g.size} elements for a parameter of ${p.size}`);
        let s = this.state.get(p);
        if (!s) {
          s = { step: 0, buffers: {} };
          this.state.set(p, s);
        }
        s.step += 1;
        this.update(be, p, g, s, group.hyper);
      }
    }
  }

  /** The state buffer `name` of p on p's device: zeros when new, moved when p moved. */
  protected buffer(s: ParamState, name: string, p: Tensor): Tensor {
    const have = s.buffers[name];
    if (have) return have.moveTo_(p.device);
    return (s.buffers[name] = keepTensor(backendFor(p.device, 'optimizer state').zeros(p.shape)));
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

  /** The state in parameter order (group by group), on the host, for checkpoints. */
  stateSnapshot(): ParamStateSnapshot[] {
    const out: ParamStateSnapshot[] = [];
    for (const g of this.groups) {
      for (const p of g.params) {
        const s = this.state.get(p);
        const host = (t: Tensor): Float32Array => (t.device === 'cpu' ? t.f32.slice() : t.hostValues('stateSnapshot') as Float32Array);
        const buffers = Object.fromEntries(Object.entries(s?.buffers ?? {}).map(([k, t]) => [k, host(t)]));
        out.push({ step: s?.step ?? 0, buffers });
      }
    }
    return out;
  }

  loadStateSnapshot(snap: ParamStateSnapshot[]): void {
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
      if (s.step === 0) {
        this.state.delete(p);
        return;
      }
      const be = backendFor(p.device, 'loadStateSnapshot');
      const buffers = Object.fromEntries(Object.entries(s.buffers).map(([k, v]) => [k, keepTensor(be.fromHost(v, p.shape))]));
      this.state.set(p, { step: s.step, buffers });
    });
  }
}

function disposeState(s: ParamState | undefined): void {
  for (const t of Object.values(s?.buffers ?? {})) t.dispose();
}
