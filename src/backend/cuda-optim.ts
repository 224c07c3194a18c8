// Optimizer state and updates for device parameters: the state buffers (exp_avg, momentum_buffer,
// ...) live on the device next to the parameter and the fused CUDA kernels update both in place.
// State moves with the parameter: uploaded on the first device step, downloaded for snapshots or
// when the parameter is back on the CPU.
import type { ParamState } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { cudaNative as cu } from './cuda-native.js';
import { deviceFrom, deviceFull, handle as h, hostData } from './device.js';
import { keepTensor } from './storage.js';

/** The device copy of a state buffer (zeros when new; uploaded from host state when present). */
export function deviceBuffer(s: ParamState, name: string, p: Tensor): Tensor {
  const dev = (s.device ??= {});
  const have = dev[name];
  if (have) return have;
  const host = s.buffers[name];
  const t = keepTensor(host ? deviceFrom(host, p.shape) : deviceFull(p.shape, 0));
  delete s.buffers[name];
  dev[name] = t;
  return t;
}

/** Moves device state buffers back to host memory (the parameter is on the CPU again). */
export function stateToHost(s: ParamState): void {
  if (!s.device) return;
  for (const [name, t] of Object.entries(s.device)) {
    s.buffers[name] = hostData(t, 'optimizer state') as Float32Array;
    t.dispose();
  }
  delete s.device;
}

/** Host copies of all of a parameter's state buffers (device ones downloaded). */
export function hostBuffers(s: ParamState): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(s.buffers)) out[k] = v.slice();
  for (const [k, t] of Object.entries(s.device ?? {})) out[k] = hostData(t, 'optimizer state') as Float32Array;
  return out;
}

/** Frees a parameter's device state (the state is being replaced). */
export function disposeState(s: ParamState | undefined): void {
  for (const t of Object.values(s?.device ?? {})) t.dispose();
}

function checkGrad(op: string, p: Tensor, g: Tensor): void {
  if (g.device !== p.device) throw new Error(`${op}: parameter ${p.name ?? ''} on ${p.device}, its gradient on ${g.device}`);
  if (g.size !== p.size) throw new Error(`${op}: gradient of ${g.size} elements for a parameter of ${p.size}`);
}

export function adamStep(p: Tensor, g: Tensor, s: ParamState, lr: number, beta1: number, beta2: number, eps: number, wd: number): void {
  checkGrad('Adam.step', p, g);
  const m = deviceBuffer(s, 'exp_avg', p);
  const v = deviceBuffer(s, 'exp_avg_sq', p);
  cu.cudaAdamStep(h(p, 'Adam.step'), h(g, 'Adam.step'), h(m, 'Adam.step'), h(v, 'Adam.step'), s.step, lr, beta1, beta2, eps, wd);
}

export function sgdStep(p: Tensor, g: Tensor, s: ParamState, lr: number, momentum: number, dampening: number, wd: number, nesterov: boolean): void {
  checkGrad('SGD.step', p, g);
  const buf = momentum !== 0 ? deviceBuffer(s, 'momentum_buffer', p) : null;
  cu.cudaSgdStep(h(p, 'SGD.step'), h(g, 'SGD.step'), buf ? h(buf, 'SGD.step') : null, lr, momentum, dampening, wd, nesterov, s.step === 1);
}
