// Tensor: a contiguous row-major float32 (or int32, for labels) array with a shape, and the
// autograd fields (requiresGrad, grad, the node that produced it). CPU data lives in a typed
// array owned by JS; the native addon reads and writes it in place.
import type { GradNode } from '../autograd/node.js';
import { Rng } from '../util/rng.js';

export type DType = 'f32' | 'i32';
export type Shape = readonly number[];

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
  /** float32 data for 'f32', int32 for 'i32'. */
  readonly data: Float32Array | Int32Array;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The op that produced this tensor (null for leaves and for tensors made without grad). */
  node: GradNode | null = null;
  /** Optional name (parameters get theirs from their module path). */
  name?: string;

  constructor(data: Float32Array | Int32Array, shape: Shape, requiresGrad = false) {
    checkShape(shape, 'Tensor');
    if (data.length !== numel(shape)) {
      throw new Error(`Tensor: data has ${data.length} elements but shape ${shapeStr(shape)} needs ${numel(shape)}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = data instanceof Int32Array ? 'i32' : 'f32';
    if (requiresGrad) this.setRequiresGrad(true);
  }

  get size(): number {
    return this.data.length;
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

  item(): number {
    if (this.size !== 1) throw new Error(`item(): tensor of shape ${shapeStr(this.shape)} has ${this.size} elements`);
    return this.data[0];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** A tensor sharing this one's data, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A copy of the data, cut from the graph. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Copies values from another tensor of the same shape into this one (in place, no grad). */
  copy_(src: Tensor): this {
    if (src.size !== this.size) {
      throw new Error(`copy_: shape ${shapeStr(src.shape)} does not fit ${shapeStr(this.shape)}`);
    }
    this.data.set(src.data);
    return this;
  }

  /** CPU tensors are garbage collected; kept for symmetry with device tensors. */
  dispose(): void {}

  toString(): string {
    return `Tensor(${this.dtype} ${shapeStr(this.shape)}${this.requiresGrad ? ', requiresGrad' : ''})`;
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
