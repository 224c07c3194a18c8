// Device tensors: creation on the CUDA device, host <-> device copies (Tensor.to / .cpu / copy_ /
// moveTo_), device checks that name the op and the devices involved, and the buffer handles the
// launchers of cuda-native.ts take. CPU tensors never come through here.
import { record } from '../autograd/node.js';
import { Tensor, numel, shapeStr, type DType, type Device, type Shape } from '../tensor/tensor.js';
import { cudaNative as cu, cudaStatus } from './cuda-native.js';
import { DeviceStorage, adoptInPlace, hostDataAccessor } from './storage.js';

let cudaChecked = false;

/** Throws "<op>: CUDA is not available: <reason>" unless the addon has a usable CUDA device. */
export function ensureCuda(op: string): void {
  if (cudaChecked) return;
  const s = cudaStatus();
  if (!s.available) throw new Error(`${op}: CUDA is not available: ${s.reason}`);
  cudaChecked = true;
}

function checkDevice(device: Device, op: string): void {
  if (device !== 'cpu' && device !== 'cuda') throw new Error(`${op}: unknown device ${JSON.stringify(device)} (use 'cpu' or 'cuda')`);
  if (device === 'cuda') ensureCuda(op);
}

/** A device tensor with undefined contents. */
export function deviceEmpty(shape: Shape, dtype: DType = 'f32'): Tensor {
  ensureCuda('deviceEmpty');
  return new Tensor(DeviceStorage.alloc(numel(shape), dtype), shape);
}

/** A float32 device tensor filled with `value`. */
export function deviceFull(shape: Shape, value: number): Tensor {
  const t = deviceEmpty(shape);
  cu.cudaFill(t.liveStorage('deviceFull').handle, value);
  return t;
}

/** A device copy of host values. */
export function deviceFrom(values: Float32Array | Int32Array, shape: Shape): Tensor {
  const t = deviceEmpty(shape, values instanceof Int32Array ? 'i32' : 'f32');
  upload(t, values);
  return t;
}

function upload(t: Tensor, values: Float32Array | Int32Array): void {
  const h = t.liveStorage('upload').handle;
  if (values instanceof Int32Array) cu.cudaUploadI32(h, values);
  else cu.cudaUpload(h, values);
}

/** A fresh host array with a device tensor's values (no autograd). */
export function hostData(t: Tensor, op: string): Float32Array | Int32Array {
  const h = t.liveStorage(op).handle;
  if (t.dtype === 'i32') {
    const out = new Int32Array(t.size);
    cu.cudaDownloadI32(h, out);
    return out;
  }
  const out = new Float32Array(t.size);
  cu.cudaDownload(h, out);
  return out;
}

function converted(values: Float32Array | Int32Array, dtype: DType): Float32Array | Int32Array {
  if ((dtype === 'i32') === values instanceof Int32Array) return values;
  return dtype === 'i32' ? Int32Array.from(values) : Float32Array.from(values);
}

/** Tensor.to across devices: a copy, recorded so gradients flow back to the source device. */
export function transfer(t: Tensor, device: Device): Tensor {
  checkDevice(device, 'to');
  const out = device === 'cpu' ? new Tensor(hostData(t, 'cpu'), t.shape) : deviceFrom(t.data, t.shape);
  if (t.dtype !== 'f32') return out;
  const from = t.device;
  return record('to', out, [t], (g) => [g.to(from)]);
}

/** A copy of a device tensor on the device, cut from the graph. */
export function deviceClone(t: Tensor): Tensor {
  if (t.dtype === 'i32') return deviceFrom(hostData(t, 'clone'), t.shape);
  const out = deviceEmpty(t.shape);
  cu.cudaScale(t.liveStorage('clone').handle, 1, out.liveStorage('clone').handle);
  return out;
}

/** Tensor.copy_ when either side is on the device. */
export function copyInto(dst: Tensor, src: Tensor): void {
  if (dst.device === 'cpu') {
    dst.data.set(converted(hostData(src, 'copy_'), dst.dtype));
  } else if (src.device === 'cpu') {
    upload(dst, converted(src.data, dst.dtype));
  } else if (dst.dtype === 'f32' && src.dtype === 'f32') {
    cu.cudaScale(src.liveStorage('copy_').handle, 1, dst.liveStorage('copy_').handle);
  } else {
    upload(dst, converted(hostData(src, 'copy_'), dst.dtype));
  }
}

type Movable = { device: Device; storage: DeviceStorage | null };

/** Tensor.moveTo_: the same object now holds its values on `device` (its gradient moves too). */
export function moveTo(t: Tensor, device: Device): void {
  checkDevice(device, 'moveTo_');
  const m = t as unknown as Movable;
  if (device === 'cpu') {
    const values = hostData(t, 'moveTo_');
    t.dispose();
    Object.defineProperty(t, 'data', { value: values, writable: true, configurable: true, enumerable: true });
    m.device = 'cpu';
  } else {
    const values = t.data;
    const s = DeviceStorage.alloc(t.size, t.dtype);
    try {
      if (values instanceof Int32Array) cu.cudaUploadI32(s.handle, values);
      else cu.cudaUpload(s.handle, values);
    } catch (err) {
      s.release();
      throw err;
    }
    Object.defineProperty(t, 'data', { get: hostDataAccessor, configurable: true, enumerable: false });
    m.device = device;
    m.storage = s;
    adoptInPlace(t, s);
  }
  if (t.grad) t.grad.moveTo_(device);
}

/** The device buffer handle of `t` for a launcher. */
export function handle(t: Tensor, op: string): number {
  return t.liveStorage(op).handle;
}

/** Checks every given tensor is a live CUDA tensor; else an error naming the op and the devices. */
export function expectCuda(op: string, named: Record<string, Tensor | null | undefined>): void {
  const entries = Object.entries(named).filter((e): e is [string, Tensor] => e[1] != null);
  if (entries.some(([, t]) => t.device !== 'cuda')) {
    const list = entries.map(([n, t]) => `${n} on ${t.device}`).join(', ');
    throw new Error(`${op}: expected all tensors on one device, got ${list}; move them with .to(device) or Module.to(device)`);
  }
  for (const [n, t] of entries) if (!t.storage) throw new Error(`${op}: ${n} ${shapeStr(t.shape)} was disposed`);
}
