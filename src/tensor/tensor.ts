// Tensor: a contiguous row-major float32 (or int32, for labels) array with a shape, and the
// autograd fields (requiresGrad, grad, the node that produced it). CPU data lives in a typed
// array owned by JS; the native addon reads and writes it in place. A CUDA tensor holds a
// reference-counted device buffer (`storage`, implemented in src/backend/storage.ts) instead:
// its `data` throws, `.cpu()` copies it back. This file imports nothing of the engine above it:
// the methods that need a backend (.to, .cpu, .clone, .copy_, .moveTo_) are attached by
// src/ops/transfer.ts, as tfjs attaches its ops to Tensor.prototype.
import { Rng } from '../util/rng.js';

export type DType = 'f32' | 'i32';
export type Device = 'cpu' | 'cuda';
export type Shape = readonly number[];

/** Computes the gradients of an op's inputs from its output gradient. `needs[i]` says whether
 *  input i wants a gradient; entries for inputs that don't may be null. */
export type BackwardFn = (gradOut: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

/** The op that produced a tensor, as the autograd tape records it (src/autograd/node.ts). */
export interface GradNode {
  op: string;
  inputs: Tensor[];
  needs: boolean[];
  backward: BackwardFn;
}

/** A device buffer behind a device tensor (src/backend/storage.ts implements it): shared by the
 *  tensors that view it, freed when the last one lets go. */
export interface DeviceBuffer {
  readonly device: Exclude<Device, 'cpu'>;
  readonly dtype: DType;
  readonly length: number;
  /** the addon's handle of the buffer */
  readonly handle: number;
  /** `t` starts using this buffer (called by the Tensor constructor) */
  adopt(t: Tensor): void;
  /** `t` stops using it (Tensor.dispose) */
  abandon(t: Tensor): void;
  /** a fresh host copy of the values (waits for queued work) */
  read(): Float32Array | Int32Array;
}

function isHostArray(v: unknown): v is Float32Array | Int32Array {
  return v instanceof Float32Array || v instanceof Int32Array;
}

/** The `data` accessor of device tensors: they have no host array, so reading it is an error. */
export function hostDataAccessor(this: Tensor): never {
  const what = this.storage ? 'is on' : 'was disposed on';
  throw new Error(`${this.toString()} ${what} ${this.device}: its values are not in host memory; call .cpu() for a host copy`);
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

function checkShape(shape: Shape, where: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${where}: invalid shape ${shapeStr(shape)}`);
  }
}

export class Tensor {
  readonly shape: Shape;
  readonly dtype: DType;
  /** float32 data for 'f32', int32 for 'i32' (CPU tensors only: throws on a device tensor). */
  readonly data: Float32Array | Int32Array;
  readonly size: number;
  /** Where the values live. */
  readonly device: Device;
  /** The device buffer of a device tensor (null on the CPU and once disposed). */
  storage: DeviceBuffer | null = null;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The op that produced this tensor (null for leaves and for tensors made without grad). */
  node: GradNode | null = null;
  /** Optional name (parameters get theirs from their module path). */
  name?: string;

  /** From a typed array (CPU, zero-copy) or a device buffer (one more reference to it). */
  constructor(data: Float32Array | Int32Array | DeviceBuffer, shape: Shape, requiresGrad = false) {
    checkShape(shape, 'Tensor');
    if (data.length !== numel(shape)) {
      throw new Error(`Tensor: data has ${data.length} elements but shape ${shapeStr(shape)} needs ${numel(shape)}`);
    }
    this.shape = Object.freeze([...shape]);
    this.size = data.length;
    if (isHostArray(data)) {
      this.device = 'cpu';
      this.data = data;
      this.dtype = data instanceof Int32Array ? 'i32' : 'f32';
    } else {
      this.device = data.device;
      this.dtype = data.dtype;
      this.data = undefined as never;
      Object.defineProperty(this, 'data', { get: hostDataAccessor, configurable: true, enumerable: false });
      this.storage = data;
      data.adopt(this);
    }
    if (requiresGrad) this.setRequiresGrad(true);
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** The float32 data; throws for int tensors. */
  get f32(): Float32Array {
    if (!(this.data instanceof Float32Array)) throw new Error(`expected a float32 tensor, got ${this.dtype} ${shapeStr(this.shape)}`);
    return this.data;
  }

  /** The int32 data; throws for float tensors. */
  get i32(): Int32Array {
    if (!(this.data instanceof Int32Array)) throw new Error(`expected an int32 tensor, got ${this.dtype} ${shapeStr(this.shape)}`);
    return this.data;
  }

  setRequiresGrad(flag: boolean): this {
    if (flag && this.dtype !== 'f32') throw new Error('only float32 tensors can require gradients');
    this.requiresGrad = flag;
    return this;
  }

  /** The single value (downloaded from a device tensor). */
  item(): number {
    if (this.size !== 1) throw new Error(`item(): tensor of shape ${shapeStr(this.shape)} has ${this.size} elements`);
    return this.hostValues('item')[0];
  }

  toArray(): number[] {
    return Array.from(this.hostValues('toArray'));
  }

  /** The values in host memory: the data itself on the CPU, a fresh download of a device tensor. */
  hostValues(op: string): Float32Array | Int32Array {
    return this.device === 'cpu' ? this.data : this.liveStorage(op).read();
  }

  /** A tensor sharing this one's data (or device buffer), cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.device === 'cpu' ? this.data : this.liveStorage('detach'), this.shape);
  }

  // Attached by src/ops/transfer.ts (they need a backend; this file imports none).
  /** A copy of the data on the same device, cut from the graph. */
  declare clone: () => Tensor;
  /** Copies values from another tensor of the same shape into this one (in place, no grad; across devices too). */
  declare copy_: (src: Tensor) => this;
  /** This tensor on `device`: itself when it is already there, else a copy (differentiable, like torch's .to). */
  declare to: (device: Device) => Tensor;
  /** A host copy of a device tensor (this tensor itself when already on the CPU). */
  declare cpu: () => Tensor;
  /** Moves this tensor's values to `device` in place (Module.to does this for parameters and buffers). */
  declare moveTo_: (device: Device) => this;

  /** Frees a device tensor's buffer (back to the caching allocator once no view uses it); a
   *  no-op for CPU tensors, which the garbage collector reclaims. Safe to call twice. */
  dispose(): void {
    const s = this.storage;
    if (!s) return;
    this.storage = null;
    s.abandon(this);
  }

  /** Whether dispose() was called on this device tensor. */
  get disposed(): boolean {
    return this.device !== 'cpu' && this.storage === null;
  }

  /** The device storage, or an error naming `op` when the tensor was disposed. */
  liveStorage(op: string): DeviceBuffer {
    if (!this.storage) {
      throw new Error(`${op}: ${this.device === 'cpu' ? 'tensor is on the cpu' : `${this.toString()} was disposed`}`);
    }
    return this.storage;
  }

  toString(): string {
    const dev = this.device === 'cpu' ? '' : `, ${this.device}`;
    return `Tensor(${this.dtype} ${shapeStr(this.shape)}${dev}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // ---- creation ----

  static zeros(shape: Shape, requiresGrad = false): Tensor {
    checkShape(shape, 'zeros');
    return new Tensor(new Float32Array(numel(shape)), shape, requiresGrad);
  }

  static full(shape: Shape, value: number, requiresGrad = false): Tensor {
    checkShape(shape, 'full');
    return new Tensor(new Float32Array(numel(shape)).fill(value), shape, requiresGrad);
  }

  static ones(shape: Shape, requiresGrad = false): Tensor {
    return Tensor.full(shape, 1, requiresGrad);
  }

  static from(values: ArrayLike<number>, shape?: Shape, requiresGrad = false): Tensor {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    return new Tensor(data, shape ?? [data.length], requiresGrad);
  }

  static ints(values: ArrayLike<number>, shape?: Shape): Tensor {
    const data = values instanceof Int32Array ? values : Int32Array.from(values);
    return new Tensor(data, shape ?? [data.length]);
  }

  static randn(shape: Shape, rng: Rng, std = 1, requiresGrad = false): Tensor {
    const t = Tensor.zeros(shape, requiresGrad);
    const d = t.f32;
    for (let i = 0; i < d.length; i++) d[i] = rng.normal() * std;
    return t;
  }

  static uniform(shape: Shape, rng: Rng, low: number, high: number, requiresGrad = false): Tensor {
    const t = Tensor.zeros(shape, requiresGrad);
    const d = t.f32;
    for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * rng.nextFloat();
    return t;
  }
}
