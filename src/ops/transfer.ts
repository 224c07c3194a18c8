// Copies between devices and within one: Tensor.to / .cpu (differentiable), .clone, .copy_ and
// .moveTo_ (in place, for Module.to). Attached to Tensor.prototype here, so that the tensor file
// needs no backend (as tfjs attaches its ops).
import { record } from '../autograd/node.js';
import { backendFor, backendOf } from '../backend/dispatch.js';
import { keepTensor } from '../backend/storage.js';
import { Tensor, hostDataAccessor, shapeStr, type DType, type Device } from '../tensor/tensor.js';

function converted(values: Float32Array | Int32Array, dtype: DType): Float32Array | Int32Array {
  if ((dtype === 'i32') === values instanceof Int32Array) return values;
  return dtype === 'i32' ? Int32Array.from(values) : Float32Array.from(values);
}

/** A copy of t's values on `device`, not recorded. */
function copyTo(t: Tensor, device: Device, op: string): Tensor {
  const be = backendFor(device, op);
  if (t.device === 'cpu') return be.fromHost(t.data, t.shape);
  return be.device === 'cpu' ? new Tensor(t.hostValues(op), t.shape) : be.fromHost(t.hostValues(op), t.shape);
}

Tensor.prototype.to = function to(this: Tensor, device: Device): Tensor {
  if (device === this.device) return this;
  const out = copyTo(this, device, 'to');
  if (this.dtype !== 'f32') return out;
  const from = this.device;
  return record('to', out, [this], (g) => [copyTo(g, from, 'to (backward)')]);
};

Tensor.prototype.cpu = function cpu(this: Tensor): Tensor {
  return this.to('cpu');
};

Tensor.prototype.clone = function clone(this: Tensor): Tensor {
  if (this.device === 'cpu') return new Tensor(this.data.slice(), this.shape);
  const be = backendOf('clone', { input: this });
  if (this.dtype !== 'f32') return be.fromHost(this.hostValues('clone'), this.shape);
  const out = be.uninit(this.shape);
  be.k.scale(be.f(this), 1, be.f(out));
  return out;
};

Tensor.prototype.copy_ = function copy_<T extends Tensor>(this: T, src: Tensor): T {
  if (src.size !== this.size) throw new Error(`copy_: shape ${shapeStr(src.shape)} does not fit ${shapeStr(this.shape)}`);
  if (this.device === 'cpu') {
    this.data.set(converted(src.hostValues('copy_'), this.dtype));
  } else if (src.device === this.device && src.dtype === 'f32' && this.dtype === 'f32') {
    const be = backendOf('copy_', { destination: this, source: src });
    be.k.scale(be.f(src), 1, be.f(this));
  } else {
    backendOf('copy_', { destination: this }).write(this, converted(src.hostValues('copy_'), this.dtype));
  }
  return this;
};

type Movable = { device: Device; storage: Tensor['storage'] };

/** The same object holds its values on `device` afterwards (its gradient moves too); kept out of
 *  deviceScope, like parameters. */
Tensor.prototype.moveTo_ = function moveTo_<T extends Tensor>(this: T, device: Device): T {
  if (device === this.device) return this;
  const be = backendFor(device, 'moveTo_');
  const m = this as unknown as Movable;
  if (be.device === 'cpu') {
    const values = this.hostValues('moveTo_');
    this.dispose();
    Object.defineProperty(this, 'data', { value: values, writable: true, configurable: true, enumerable: true });
    m.device = 'cpu';
  } else {
    const moved = be.fromHost(this.data, this.shape);
    const storage = moved.storage!;
    Object.defineProperty(this, 'data', { get: hostDataAccessor, configurable: true, enumerable: false });
    m.device = device;
    m.storage = storage;
    storage.adopt(this);
    keepTensor(this);
    moved.dispose();
  }
  this.grad?.moveTo_(device);
  return this;
};
