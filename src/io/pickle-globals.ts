/**
 * The unpickler's whitelist: the only Python globals a stream may name, each mapped to a data-only
 * constructor (no import, no code). What torch.save writes for state_dicts and training checkpoints,
 * and what numpy arrays in pickles need (CIFAR python batches). Anything else is refused by name.
 */
import type { DType, RawTensor } from './types.js';
import { allocData, bytesOf, dtypeSize, numel } from './dtype.js';

/** A resolved, whitelisted global (a class or function reference). */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualname(): string { return `${this.module}.${this.name}`; }
}

/** A typed torch storage class (`torch.FloatStorage`, ...). */
export class TorchStorageType extends PyGlobal {
  constructor(module: string, name: string, readonly dtype: DType) { super(module, name); }
}

/** A torch dtype object such as `torch.float16` (appears in checkpoint metadata). */
export class TorchDtype extends PyGlobal {}

/** What `torch._utils._rebuild_tensor_v2` returns: a view description of a storage. */
export class TensorRef {
  constructor(
    readonly storage: unknown,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
    public requiresGrad = false,
    public isParameter = false,
  ) {}
}

/** numpy.dtype(...) */
export class NpDtype {
  constructor(readonly descr: string, public endian = '<') {}
}

/** numpy.ndarray under construction (`_reconstruct` then BUILD fills it). */
export class NdArray {
  tensor: RawTensor | undefined;
}

/** Extra attributes set by BUILD on dicts (e.g. a state_dict's `_metadata`). */
export const pyAttributes = new WeakMap<object, Map<unknown, unknown>>();

const STORAGES: Record<string, DType> = {
  FloatStorage: 'f32', DoubleStorage: 'f64', HalfStorage: 'f16', BFloat16Storage: 'bf16', LongStorage: 'i64',
  IntStorage: 'i32', ShortStorage: 'i16', CharStorage: 'i8', ByteStorage: 'u8', BoolStorage: 'bool',
};
const TORCH_DTYPES = ['float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16', 'int64', 'long', 'int32', 'int', 'int16', 'short', 'int8', 'uint8', 'bool'];
const NP_DTYPES: Record<string, DType> = {
  f4: 'f32', f8: 'f64', f2: 'f16', i8: 'i64', i4: 'i32', i2: 'i16', i1: 'i8', u1: 'u8', b1: 'bool', '?': 'bool',
  float32: 'f32', float64: 'f64', float16: 'f16', int64: 'i64', int32: 'i32', int16: 'i16', int8: 'i8', uint8: 'u8', bool: 'bool',
};

type Handler = (args: unknown[], where: string) => unknown;

const fail = (where: string, msg: string): never => { throw new Error(`pickle ${where}: ${msg}`); };
const int = (v: unknown, where: string, what: string): number => {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return fail(where, `${what} is not an integer`);
};
const intList = (v: unknown, where: string, what: string): number[] => {
  if (!Array.isArray(v)) return fail(where, `${what} is not a tuple`);
  return v.map((x, i) => int(x, where, `${what}[${i}]`));
};
const iterable = (v: unknown): unknown[] =>
  Array.isArray(v) ? v : v instanceof Set ? [...v] : v instanceof Map ? [...v.keys()] : typeof v === 'string' ? [...v] : v instanceof Uint8Array ? [...v] : [];

function rebuildTensor(args: unknown[], where: string): TensorRef {
  if (args.length < 4) fail(where, `_rebuild_tensor needs at least 4 arguments, got ${args.length}`);
  return new TensorRef(args[0], int(args[1], where, 'storage_offset'), intList(args[2], where, 'size'), intList(args[3], where, 'stride'), args[4] === true);
}

function rebuildParameter(args: unknown[]): unknown {
  const t = args[0];
  if (t instanceof TensorRef) { t.requiresGrad = args[1] === true; t.isParameter = true; }
  return t;
}

const HANDLERS: Record<string, Handler> = {
  'collections.OrderedDict': (a) => new Map(a.length > 0 && Array.isArray(a[0]) ? (a[0] as unknown[]).map((p) => (Array.isArray(p) ? [p[0], p[1]] : [p, undefined])) : []),
  'builtins.dict': (a) => (a[0] instanceof Map ? new Map(a[0]) : new Map()),
  'builtins.list': (a) => iterable(a[0]).slice(),
  'builtins.tuple': (a) => iterable(a[0]).slice(),
  'builtins.set': (a) => new Set(iterable(a[0])),
  'builtins.frozenset': (a) => new Set(iterable(a[0])),
  'builtins.bytearray': (a, w) => bytesArg(a, w),
  'builtins.bytes': (a, w) => bytesArg(a, w),
  'builtins.slice': (a) => ({ slice: a.slice() }),
  'builtins.complex': (a) => ({ real: a[0] ?? 0, imag: a[1] ?? 0 }),
  '_codecs.encode': (a, w) => bytesArg(a, w),
  'torch._utils._rebuild_tensor': rebuildTensor,
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_parameter': rebuildParameter,
  'torch._utils._rebuild_parameter_with_state': rebuildParameter,
  'torch._tensor._rebuild_from_type_v2': (a, w) => {
    const [fn, , args] = a;
    if (!(fn instanceof PyGlobal) || !Array.isArray(args)) return fail(w, '_rebuild_from_type_v2 with bad arguments');
    return callGlobal(fn, args, w);
  },
  'torch.Size': (a, w) => intList(a[0] ?? [], w, 'torch.Size'),
  'torch.device': (a) => (a.length > 1 ? `${String(a[0])}:${String(a[1])}` : String(a[0])),
  'numpy.dtype': (a, w) => {
    const d = a[0];
    if (typeof d !== 'string') return fail(w, 'numpy.dtype with a non-string descriptor');
    return new NpDtype(d);
  },
  'numpy.core.multiarray._reconstruct': () => new NdArray(),
  'numpy.core.multiarray.scalar': (a, w) => npScalar(a, w),
};
HANDLERS['numpy._core.multiarray._reconstruct'] = HANDLERS['numpy.core.multiarray._reconstruct']!;
HANDLERS['numpy._core.multiarray.scalar'] = HANDLERS['numpy.core.multiarray.scalar']!;
/** Classes that are only ever referenced (passed as arguments), never called. */
const MARKERS = new Set(['numpy.ndarray', 'torch.Tensor', 'torch.nn.parameter.Parameter', 'torch.FloatTensor']);

function bytesArg(a: unknown[], where: string): Uint8Array {
  const v = a[0];
  if (v === undefined) return new Uint8Array(0);
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return Uint8Array.from(v.map((x) => int(x, where, 'byte') & 0xff));
  if (typeof v !== 'string') return fail(where, 'bytes from a non-string');
  const enc = typeof a[1] === 'string' ? a[1].toLowerCase().replace('_', '-') : 'utf-8';
  if (enc === 'latin1' || enc === 'latin-1' || enc === 'iso-8859-1') return new Uint8Array(Buffer.from(v, 'latin1'));
  if (enc === 'utf-8' || enc === 'utf8' || enc === 'ascii') return new Uint8Array(Buffer.from(v, 'utf8'));
  return fail(where, `unsupported text encoding ${enc}`);
}

function npScalar(a: unknown[], where: string): number | bigint | boolean {
  const [dt, raw] = a;
  if (!(dt instanceof NpDtype)) return fail(where, 'numpy scalar without a dtype');
  const bytes = raw instanceof Uint8Array ? raw : typeof raw === 'string' ? new Uint8Array(Buffer.from(raw, 'latin1')) : fail(where, 'numpy scalar without data');
  const t = ndFromBytes(dt, [], bytes, where);
  const v = t.data[0]!;
  return t.dtype === 'bool' ? v !== 0 : typeof v === 'bigint' ? v : Number(v);
}

/** Resolves a global by name or throws; no module is ever imported. */
export function resolveGlobal(module: string, name: string, where: string): PyGlobal {
  const m = module === '__builtin__' ? 'builtins' : module === 'copy_reg' ? 'copyreg' : module;
  const q = `${m}.${name}`;
  if (m === 'torch' && STORAGES[name]) return new TorchStorageType(m, name, STORAGES[name]!);
  if (m === 'torch' && TORCH_DTYPES.includes(name)) return new TorchDtype(m, name);
  if (HANDLERS[q] || MARKERS.has(q)) return new PyGlobal(m, name);
  const hint = m.startsWith('__torch__')
    ? ' (a TorchScript archive; save model.state_dict() instead)'
    : m.startsWith('torch.nn') || m === '__main__' ? ' (a pickled model object; save and load model.state_dict() instead)' : '';
  throw new Error(`pickle ${where}: refusing to load global ${q}: not in the whitelist of data-only globals${hint}`);
}

/** Calls a whitelisted global's data-only constructor (REDUCE / NEWOBJ / INST). */
export function callGlobal(fn: PyGlobal, args: unknown[], where: string): unknown {
  const h = HANDLERS[fn.qualname];
  if (!h) return fail(where, `${fn.qualname} cannot be called`);
  return h(args, where);
}

/** BUILD: applies `state` to `obj` for the objects that accept one. */
export function buildObject(obj: unknown, state: unknown, where: string): void {
  if (obj instanceof NdArray) { obj.tensor = ndFromState(state, where); return; }
  if (obj instanceof NpDtype) {
    if (Array.isArray(state) && typeof state[1] === 'string') obj.endian = state[1];
    return;
  }
  if (obj instanceof TensorRef) return; // backward hooks / python attributes: ignored
  if (obj instanceof Map || obj instanceof Set || Array.isArray(obj)) {
    const attrs = state instanceof Map ? state : Array.isArray(state) && state[1] instanceof Map ? state[1] : undefined;
    if (attrs) pyAttributes.set(obj, attrs);
    return;
  }
  fail(where, `BUILD on an object that takes no state (${typeof obj})`);
}

function ndFromState(state: unknown, where: string): RawTensor {
  if (!Array.isArray(state) || state.length < 5) return fail(where, 'numpy array state is not a 5-tuple');
  const [, shapeV, dt, fortran, raw] = state;
  const shape = intList(shapeV, where, 'numpy shape');
  if (!(dt instanceof NpDtype)) return fail(where, 'numpy array state without a dtype');
  const bytes = raw instanceof Uint8Array ? raw : typeof raw === 'string' ? new Uint8Array(Buffer.from(raw, 'latin1')) : fail(where, 'numpy object arrays (pickled elements) are not supported');
  const t = ndFromBytes(dt, fortran === true ? [...shape].reverse() : shape, bytes, where);
  return fortran === true ? transposeAll(t, shape) : t;
}

function ndFromBytes(dt: NpDtype, shape: number[], bytes: Uint8Array, where: string): RawTensor {
  const key = dt.descr.replace(/^[<>=|]/, '');
  const dtype = NP_DTYPES[key];
  if (!dtype) return fail(where, `numpy dtype ${dt.descr} is not supported`);
  const n = numel(shape, `pickle ${where}: numpy array`);
  const size = dtypeSize(dtype);
  if (bytes.byteLength !== n * size) return fail(where, `numpy array [${shape.join(', ')}] ${dt.descr} needs ${n * size} bytes, has ${bytes.byteLength}`);
  const data = allocData(dtype, n);
  const out = bytesOf(data);
  out.set(bytes);
  if (dt.endian === '>' && size > 1) {
    for (let i = 0; i < out.length; i += size) out.subarray(i, i + size).reverse();
  }
  return { dtype, shape, data };
}

/** Fortran-ordered data read as the reversed shape, transposed back to C order. */
function transposeAll(t: RawTensor, shape: number[]): RawTensor {
  const n = t.data.length;
  const rank = shape.length;
  const out = allocData(t.dtype, n);
  const src = bytesOf(t.data);
  const dst = bytesOf(out);
  const size = dtypeSize(t.dtype);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let d = rank - 1; d >= 0; d--) f = f * shape[d]! + idx[d]!;
    dst.set(src.subarray(f * size, f * size + size), i * size);
    for (let d = rank - 1; d >= 0; d--) { if (++idx[d]! < shape[d]!) break; idx[d] = 0; }
  }
  return { dtype: t.dtype, shape, data: out };
}
