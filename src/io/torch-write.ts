/**
 * PyTorch checkpoints, write side: a state_dict saved in the zip format that `torch.load` reads
 * (torch >= 1.6): `archive/data.pkl` (an OrderedDict of `torch._utils._rebuild_tensor_v2` calls whose
 * storages are persistent ids), `archive/byteorder`, one `archive/data/<i>` entry per tensor (64-byte
 * aligned), and `archive/version`. Written entry by entry; tensor bytes are never concatenated.
 */
import type { DType, RawTensor, StateDict } from './types.js';
import { bytesOf, checkTensor } from './dtype.js';
import { Pickler, PersistentId, PyCall, PyRef, type PyValue } from './pickle-write.js';
import { FileSink, MemorySink, ZipWriter, type ZipSink } from './zipwrite.js';

const STORAGE_CLASS: Record<DType, string> = {
  f32: 'FloatStorage', f64: 'DoubleStorage', f16: 'HalfStorage', bf16: 'BFloat16Storage', i64: 'LongStorage',
  i32: 'IntStorage', i16: 'ShortStorage', i8: 'CharStorage', u8: 'ByteStorage', bool: 'BoolStorage',
};

export interface WriteTorchOptions {
  /** Top-level folder inside the zip (torch uses the file's base name or "archive"). */
  archiveName?: string;
  /** Nest the state_dict under this key of a plain dict, e.g. "state_dict". */
  container?: string;
}

function contiguousStride(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]!; }
  return s;
}

function write(sink: ZipSink, stateDict: StateDict | Record<string, RawTensor>, opts: WriteTorchOptions): void {
  const entries = stateDict instanceof Map ? [...stateDict.entries()] : Object.entries(stateDict);
  const name = opts.archiveName ?? 'archive';
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`torch writer: bad archive name "${name}"`);
  const rebuild = new PyRef('torch._utils', '_rebuild_tensor_v2');
  const od = new PyRef('collections', 'OrderedDict');
  const items = new Map<PyValue, PyValue>();
  entries.forEach(([key, t], i) => {
    checkTensor(t, `torch writer: tensor "${key}"`);
    const n = t.data.length;
    const storage = new PersistentId(['storage', new PyRef('torch', STORAGE_CLASS[t.dtype]), String(i), 'cpu', n]);
    items.set(key, new PyCall(rebuild, [storage, 0, t.shape.slice(), contiguousStride(t.shape), false, new PyCall(od, [])]));
  });
  const pkl = opts.container ? containerPickle(opts.container, items) : Pickler.dumps((p) => p.orderedDict(items));
  const w = new ZipWriter(sink, 64);
  w.add(`${name}/data.pkl`, pkl);
  w.add(`${name}/byteorder`, Buffer.from('little'));
  entries.forEach(([, t], i) => w.add(`${name}/data/${i}`, bytesOf(t.data)));
  w.add(`${name}/version`, Buffer.from('3\n'));
  w.finish();
}

/** {container: OrderedDict(items)} */
function containerPickle(container: string, items: Map<PyValue, PyValue>): Uint8Array {
  return Pickler.dumps((p) => {
    p.dictItems(new Map(), () => p.value(new Map()));
    // The dict is on the stack; add one item whose value is the OrderedDict.
    p.value(container);
    p.orderedDict(items);
    p.setItem();
  });
}

/** Writes a state_dict as a torch zip checkpoint. */
export function writeTorchFile(path: string, stateDict: StateDict | Record<string, RawTensor>, opts: WriteTorchOptions = {}): void {
  const sink = new FileSink(path);
  try {
    write(sink, stateDict, opts);
  } finally {
    sink.close();
  }
}

/** The bytes writeTorchFile would write. */
export function serializeTorch(stateDict: StateDict | Record<string, RawTensor>, opts: WriteTorchOptions = {}): Uint8Array {
  const sink = new MemorySink();
  write(sink, stateDict, opts);
  return sink.bytes();
}
