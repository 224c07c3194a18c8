/**
 * PyTorch checkpoints (.pt / .pth), read side: the zip format of torch >= 1.6 (`<name>/data.pkl` plus
 * `<name>/data/<key>` storages) and the legacy format (magic, protocol and sys-info pickles, the main
 * pickle, the storage key list, then each storage as an int64 count and raw bytes). Finds the state_dict
 * in bare dicts and training checkpoints, strips DataParallel's `module.` prefix, and returns every
 * other top-level entry as plain data in `extra`.
 */
import type { StateDict } from './types.js';
import { dtypeSize } from './dtype.js';
import { unpickle, unpickleAt } from './pickle.js';
import { NdArray, PyGlobal, TensorRef, TorchStorageType } from './pickle-globals.js';
import { toSource, type ByteSource } from './source.js';
import { StorageRef, TensorMaterializer, type MaterializeOptions } from './torch-tensors.js';
import { ZipReader } from './zip.js';

export interface TorchFile {
  stateDict: StateDict;
  format: 'zip' | 'legacy';
  /** The checkpoint key the state_dict was found under (e.g. "state_dict"), if it was nested. */
  container?: string;
  /** The prefix removed from every key (e.g. "module."), if any. */
  strippedPrefix?: string;
  /** Other top-level entries as plain data (numbers, strings, objects, arrays, RawTensors). */
  extra: Record<string, unknown>;
}

export interface ReadTorchOptions extends MaterializeOptions {
  /** Check zip CRC-32s (default true). */
  verifyCrc?: boolean;
  /** Remove a `module.` / `_orig_mod.` prefix shared by every key (default true). */
  stripPrefix?: boolean;
  /** Name used in errors when reading from a buffer. */
  name?: string;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const CONTAINER_KEYS = ['state_dict', 'model_state_dict', 'model', 'net', 'module', 'network', 'state_dict_ema'];
const PREFIXES = ['module.', '_orig_mod.'];

/** Reads a .pt/.pth file (path or bytes) into a state_dict. The format is detected from magic bytes. */
export function readTorchFile(input: string | Uint8Array, opts: ReadTorchOptions = {}): TorchFile {
  const src = toSource(input, opts.name);
  try {
    const head = src.read(0, Math.min(4, src.size));
    if (head[0] === 0x50 && head[1] === 0x4b) return finish(loadZip(src, opts), 'zip', src.name, opts);
    if (head[0] === 0x80) return finish(loadLegacy(src), 'legacy', src.name, opts);
    throw new Error(`torch ${src.name}: not a PyTorch checkpoint (neither a zip archive nor a pickle stream)`);
  } finally {
    src.close();
  }
}

function loadZip(src: ByteSource, opts: ReadTorchOptions): unknown {
  const zip = new ZipReader(src, opts.verifyCrc ?? true);
  const pkl = zip.entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (!pkl) throw new Error(`torch ${src.name}: zip archive has no <name>/data.pkl entry (entries: ${zip.names.slice(0, 5).join(', ')})`);
  const prefix = pkl.name.slice(0, -'data.pkl'.length);
  const bo = zip.get(`${prefix}byteorder`);
  if (bo) {
    const order = Buffer.from(zip.read(bo)).toString('latin1').trim();
    if (order !== 'little') throw new Error(`torch ${src.name}: byteorder "${order}" is not supported (only little-endian)`);
  }
  const storages = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new Error(`torch ${src.name}: unexpected persistent id in data.pkl`);
    const [, type, key, , count] = pid as unknown[];
    const dtype = storageDtype(type, src.name);
    if (typeof key !== 'string' || typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
      throw new Error(`torch ${src.name}: malformed storage persistent id`);
    }
    const known = storages.get(key);
    if (known) {
      if (known.dtype !== dtype) throw new Error(`torch ${src.name}: storage ${key} used as both ${known.dtype} and ${dtype}`);
      return known;
    }
    const entry = zip.get(`${prefix}data/${key}`);
    if (!entry) throw new Error(`torch ${src.name}: storage entry ${prefix}data/${key} is missing`);
    if (entry.size !== count * dtypeSize(dtype)) {
      throw new Error(`torch ${src.name}: storage ${prefix}data/${key} holds ${entry.size} bytes, expected ${count} x ${dtype}`);
    }
    const ref = new StorageRef(key, dtype, count, (dst) => zip.readWholeInto(entry, dst));
    storages.set(key, ref);
    return ref;
  };
  return unpickle(zip.read(pkl), { persistentLoad, name: `${src.name}:${pkl.name}` });
}

function storageDtype(type: unknown, file: string): TorchStorageType['dtype'] {
  if (type instanceof TorchStorageType) return type.dtype;
  const name = type instanceof PyGlobal ? type.qualname : typeof type;
  throw new Error(`torch ${file}: unsupported storage type ${name}`);
}

function loadLegacy(src: ByteSource): unknown {
  const buf = src.read(0, src.size);
  const name = src.name;
  if (buf.byteLength >= 262 && Buffer.from(buf.subarray(257, 262)).toString('latin1') === 'ustar') {
    throw new Error(`torch ${name}: the tar-based format of torch < 0.4 is not supported`);
  }
  const magic = unpickleAt(buf, 0, { name: `${name}:magic` });
  if (magic.value !== LEGACY_MAGIC) throw new Error(`torch ${name}: bad magic number in legacy checkpoint`);
  const proto = unpickleAt(buf, magic.end, { name: `${name}:protocol` });
  if (proto.value !== 1001) throw new Error(`torch ${name}: unsupported legacy protocol ${String(proto.value)}`);
  const sys = unpickleAt(buf, proto.end, { name: `${name}:sys_info` });
  if (sys.value instanceof Map && sys.value.get('little_endian') === false) throw new Error(`torch ${name}: big-endian checkpoints are not supported`);

  const roots = new Map<string, StorageRef>();
  const offsets = new Map<string, number>();
  const persistentLoad = (pid: unknown): StorageRef => {
    if (Array.isArray(pid) && pid[0] === 'module') throw new Error(`torch ${name}: refusing a pickled module (full-model checkpoints run code); save a state_dict instead`);
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new Error(`torch ${name}: unexpected persistent id`);
    const [, type, key, , count, view] = pid as unknown[];
    const dtype = storageDtype(type, name);
    if (typeof key !== 'string' || typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) throw new Error(`torch ${name}: malformed storage persistent id`);
    let root = roots.get(key);
    if (!root) {
      const size = dtypeSize(dtype);
      root = new StorageRef(key, dtype, count, (dst) => {
        const off = offsets.get(key);
        if (off === undefined) throw new Error(`torch ${name}: storage ${key} has no data record`);
        if (dst.byteLength !== count * size) throw new Error(`torch ${name}: storage ${key} size mismatch`);
        dst.set(buf.subarray(off, off + dst.byteLength));
      });
      roots.set(key, root);
    } else if (root.dtype !== dtype) {
      throw new Error(`torch ${name}: storage ${key} used as both ${root.dtype} and ${dtype}`);
    }
    if (view === null || view === undefined) return root;
    if (!Array.isArray(view) || view.length < 3) throw new Error(`torch ${name}: malformed storage view of ${key}`);
    const [viewKey, viewOffset, viewSize] = view as unknown[];
    if (typeof viewOffset !== 'number' || typeof viewSize !== 'number' || viewOffset < 0 || viewSize < 0 || viewOffset + viewSize > root.numel) {
      throw new Error(`torch ${name}: storage view ${String(viewKey)} is outside storage ${key}`);
    }
    return new StorageRef(String(viewKey), dtype, viewSize, () => undefined, { storage: root, offset: viewOffset });
  };
  const main = unpickleAt(buf, sys.end, { name: `${name}:data`, persistentLoad });
  const keys = unpickleAt(buf, main.end, { name: `${name}:storage keys` });
  if (!Array.isArray(keys.value)) throw new Error(`torch ${name}: storage key list is not a list`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = keys.end;
  for (const k of keys.value) {
    const root = typeof k === 'string' ? roots.get(k) : undefined;
    if (!root) throw new Error(`torch ${name}: storage key ${String(k)} was never referenced`);
    if (pos + 8 > buf.byteLength) throw new Error(`torch ${name}: truncated before the size of storage ${k} at offset ${pos}`);
    const count = view.getBigInt64(pos, true);
    if (count !== BigInt(root.numel)) throw new Error(`torch ${name}: storage ${k} has ${count} elements on disk, ${root.numel} in the pickle`);
    const len = root.numel * dtypeSize(root.dtype);
    if (pos + 8 + len > buf.byteLength) throw new Error(`torch ${name}: storage ${k} (${len} bytes at offset ${pos + 8}) runs past the end of the file`);
    offsets.set(k, pos + 8);
    pos += 8 + len;
  }
  for (const [k, r] of roots) {
    if (!offsets.has(k)) throw new Error(`torch ${name}: storage ${k} (${r.numel} x ${r.dtype}) has no data record`);
  }
  return main.value;
}

function isStateDict(v: unknown): v is Map<string, TensorRef> {
  if (!(v instanceof Map)) return false;
  for (const [k, x] of v) if (typeof k !== 'string' || !(x instanceof TensorRef)) return false;
  return true;
}

function hasTensors(v: unknown): v is Map<unknown, unknown> {
  if (!(v instanceof Map)) return false;
  for (const x of v.values()) if (x instanceof TensorRef) return true;
  return false;
}

function finish(value: unknown, format: 'zip' | 'legacy', file: string, opts: ReadTorchOptions): TorchFile {
  let sd: Map<string, TensorRef> | undefined;
  let container: string | undefined;
  const extra: Record<string, unknown> = {};
  const tm = new TensorMaterializer(file, opts);
  if (isStateDict(value)) {
    sd = value;
  } else if (value instanceof Map) {
    for (const k of CONTAINER_KEYS) {
      const inner = value.get(k);
      if (isStateDict(inner) && inner.size > 0) { sd = inner; container = k; break; }
      if (inner instanceof Map) {
        const sub = inner.get('state_dict');
        if (isStateDict(sub) && sub.size > 0) { sd = sub; container = `${k}.state_dict`; break; }
      }
    }
    if (!sd && hasTensors(value)) {
      sd = new Map();
      for (const [k, x] of value) if (typeof k === 'string' && x instanceof TensorRef) sd.set(k, x);
    }
    if (!sd) {
      const keys = [...value.keys()].map(String).slice(0, 10).join(', ');
      throw new Error(`torch ${file}: no state_dict found (top-level keys: ${keys}; looked for ${CONTAINER_KEYS.join(', ')})`);
    }
    const top = container?.split('.')[0];
    for (const [k, x] of value) {
      if (k === top || (sd.has(k as string) && x instanceof TensorRef && !container)) continue;
      extra[String(k)] = toPlain(x, tm, new Set(), 0);
    }
  } else if (value instanceof TensorRef) {
    throw new Error(`torch ${file}: the file holds a single tensor, not a state_dict`);
  } else {
    throw new Error(`torch ${file}: the file holds ${describeTop(value)}, not a state_dict`);
  }
  for (const t of sd.values()) tm.note(t);
  const stateDict: StateDict = new Map();
  let prefix: string | undefined;
  if (opts.stripPrefix ?? true) {
    const keys = [...sd.keys()];
    prefix = PREFIXES.find((p) => keys.length > 0 && keys.every((k) => k.startsWith(p)));
  }
  for (const [k, t] of sd) stateDict.set(prefix ? k.slice(prefix.length) : k, tm.materialize(t, k));
  const out: TorchFile = { stateDict, format, extra };
  if (container) out.container = container;
  if (prefix) out.strippedPrefix = prefix;
  return out;
}

function describeTop(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list/tuple';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Unpickled values -> plain JS: Maps with string keys become objects, tensors become RawTensors. */
function toPlain(v: unknown, tm: TensorMaterializer, seen: Set<object>, depth: number): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (depth > 64 || seen.has(v)) return '[recursive]';
  if (v instanceof TensorRef) {
    tm.note(v);
    return tm.materialize(v, '(extra)');
  }
  if (v instanceof NdArray) return v.tensor;
  if (v instanceof PyGlobal) return v.qualname;
  if (v instanceof Uint8Array) return v;
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => toPlain(x, tm, seen, depth + 1));
    if (v instanceof Set) return [...v].map((x) => toPlain(x, tm, seen, depth + 1));
    if (v instanceof Map) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of v) o[String(k)] = toPlain(x, tm, seen, depth + 1);
      return o;
    }
    return String(v);
  } finally {
    seen.delete(v);
  }
}
