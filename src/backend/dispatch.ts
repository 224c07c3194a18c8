// Picks the backend an op runs on from the devices of its tensors: the one place that checks
// devices (a mixed-device call is an error naming the op and every tensor's device; a disposed
// device tensor is an error naming the op and the tensor).
import type { Device, Tensor } from '../tensor/tensor.js';
import { shapeStr } from '../tensor/tensor.js';
import { cpu } from './cpu.js';
import { cudaBackend } from './cuda.js';
import type { Backend } from './kernels.js';

/** The backend of `device` (CUDA: checked to be usable, else an error naming the op). */
export function backendFor(device: Device, op: string): Backend {
  if (device !== 'cpu' && device !== 'cuda') throw new Error(`${op}: unknown device ${JSON.stringify(device)} (use 'cpu' or 'cuda')`);
  return device === 'cpu' ? cpu : cudaBackend(op);
}

/** The backend the named tensors live on (absent ones are skipped). */
export function backendOf(op: string, named: Record<string, Tensor | null | undefined>): Backend {
  let device: Device | null = null;
  let mixed = false;
  for (const name in named) {
    const t = named[name];
    if (!t) continue;
    if (device === null) device = t.device;
    else if (t.device !== device) mixed = true;
  }
  if (mixed) {
    const list = Object.entries(named).filter((e): e is [string, Tensor] => e[1] != null).map(([n, t]) => `${n} on ${t.device}`);
    throw new Error(`${op}: expected all tensors on one device, got ${list.join(', ')}; move them with .to(device) or Module.to(device)`);
  }
  if (device === null || device === 'cpu') return cpu;
  for (const name in named) {
    const t = named[name];
    if (t && !t.storage) throw new Error(`${op}: ${name} ${shapeStr(t.shape)} was disposed`);
  }
  return cudaBackend(op);
}

/** The backend of one tensor (no names needed: a single tensor cannot mix devices). */
export function backendOfTensor(t: Tensor, op: string): Backend {
  return backendOf(op, { input: t });
}
