/**
 * CIFAR's python layout: pickled dicts (written by Python 2's cPickle, protocol 2) holding a numpy uint8
 * array `data` (N x 3072, CHW per row) and label lists (`labels`, or `fine_labels` + `coarse_labels`),
 * read with the restricted unpickler of src/io. Keys may be str (Python 2) or bytes (re-pickled in 3).
 */
import { unpickle } from '../io/pickle.js';
import { NdArray } from '../io/pickle-globals.js';
import type { CifarVariant } from './cifar.js';

export interface ParsedBatch {
  pixels: Uint8Array;
  fine: Int32Array;
  coarse?: Int32Array;
}

const latin1 = new TextDecoder('latin1');

function asDict(v: unknown, what: string): Map<string, unknown> {
  if (!(v instanceof Map)) throw new Error(`${what}: not a CIFAR python batch (the pickle holds ${v === null ? 'None' : typeof v}, expected a dict)`);
  const out = new Map<string, unknown>();
  for (const [k, val] of v) {
    if (typeof k === 'string') out.set(k, val);
    else if (k instanceof Uint8Array) out.set(latin1.decode(k), val);
  }
  return out;
}

function load(bytes: Uint8Array, what: string): Map<string, unknown> {
  let v: unknown;
  try {
    v = unpickle(bytes, { name: what });
  } catch (e) {
    throw new Error(`${what}: cannot read the pickle (${(e as Error).message})`);
  }
  return asDict(v, what);
}

function labelList(d: Map<string, unknown>, key: string, n: number, max: number, what: string): Int32Array {
  const v = d.get(key);
  if (v === undefined) throw new Error(`${what}: missing "${key}"`);
  let arr: ArrayLike<unknown>;
  if (Array.isArray(v)) arr = v;
  else if (v instanceof NdArray && v.tensor) arr = Array.from(v.tensor.data as ArrayLike<number | bigint>, Number);
  else throw new Error(`${what}: "${key}" is not a list of labels`);
  if (arr.length !== n) throw new Error(`${what}: ${arr.length} ${key} for ${n} images`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = Number(arr[i]);
    if (!(Number.isInteger(y) && y >= 0 && y < max)) throw new Error(`${what}: ${key} ${String(arr[i])} of sample ${i} is out of range 0..${max - 1}`);
    out[i] = y;
  }
  return out;
}

export function parseCifarPythonBatch(bytes: Uint8Array, variant: CifarVariant, what: string): ParsedBatch {
  const d = load(bytes, what);
  const data = d.get('data');
  if (!(data instanceof NdArray) || !data.tensor) throw new Error(`${what}: missing "data" array`);
  const t = data.tensor;
  if (t.dtype !== 'u8') throw new Error(`${what}: "data" has dtype ${t.dtype}, expected uint8`);
  if (t.shape.length !== 2 || t.shape[1] !== 3072) throw new Error(`${what}: "data" has shape [${t.shape.join(', ')}], expected [N, 3072]`);
  const n = t.shape[0]!;
  const pixels = t.data as Uint8Array;
  if (variant === 'cifar10') return { pixels, fine: labelList(d, 'labels', n, 10, what) };
  return { pixels, fine: labelList(d, 'fine_labels', n, 100, what), coarse: labelList(d, 'coarse_labels', n, 20, what) };
}

export function parseCifarPythonMeta(bytes: Uint8Array, what: string): { fine: string[]; coarse?: string[] } {
  const d = load(bytes, what);
  const names = (key: string): string[] | undefined => {
    const v = d.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw new Error(`${what}: "${key}" is not a list`);
    return v.map((s) => (typeof s === 'string' ? s : s instanceof Uint8Array ? latin1.decode(s) : String(s)));
  };
  const fine = names('label_names') ?? names('fine_label_names');
  if (!fine) throw new Error(`${what}: no label_names or fine_label_names`);
  const coarse = names('coarse_label_names');
  return coarse ? { fine, coarse } : { fine };
}
