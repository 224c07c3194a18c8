// What a scope's result holds on to: the tensors and typed arrays in a value (a tensor, a typed
// array, or arrays / maps / plain objects of them, up to three levels deep). deviceScope keeps
// those tensors alive; recyclingScope keeps their buffers out of the pool.
import type { Tensor } from '../tensor/tensor.js';

export function heldByResult(v: unknown): (Tensor | ArrayBufferView)[] {
  const out: (Tensor | ArrayBufferView)[] = [];
  walk(v, out, 0);
  return out;
}

function walk(v: unknown, out: (Tensor | ArrayBufferView)[], depth: number): void {
  if (v === null || typeof v !== 'object' || depth > 3) return;
  if (ArrayBuffer.isView(v) || ('shape' in v && 'device' in v && 'dtype' in v)) {
    out.push(v as Tensor | ArrayBufferView);
    return;
  }
  const items = Array.isArray(v) ? v : v instanceof Map ? [...v.values()] : Object.values(v);
  for (const x of items) walk(x, out, depth + 1);
}
