/**
 * Model-file I/O: one entry point that detects the format from the file's first bytes (never the
 * extension) and returns a state_dict, plus the format-specific readers and writers.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { RawTensor, StateDict } from './types.js';
import { toFloat32 } from './dtype.js';
import { readSafetensorsSync, readSafetensors, parseSafetensors } from './safetensors.js';
import { readTorchFile } from './torch.js';
import { parseOnnx, readOnnx, type OnnxGraph } from './onnx.js';

export type { DType, RawData, RawTensor, StateDict } from './types.js';
export { toFloat32, dtypeSize, numel, halfToFloat, floatToHalf } from './dtype.js';
export { parseSafetensors, readSafetensors, readSafetensorsSync, writeSafetensors, writeSafetensorsSync, serializeSafetensors } from './safetensors.js';
export type { SafetensorsFile } from './safetensors.js';
export { readTorchFile } from './torch.js';
export type { TorchFile, ReadTorchOptions } from './torch.js';
export { writeTorchFile, serializeTorch } from './torch-write.js';
export type { WriteTorchOptions } from './torch-write.js';
export { parseOnnx, readOnnx, serializeOnnx, writeOnnx } from './onnx.js';
export type { OnnxGraph, OnnxNode, OnnxValueInfo, OnnxAttributeValue, OnnxAttrKind } from './onnx.js';
export { unpickle, unpickleAt, pyGet, ndarrayTensor } from './pickle.js';
export { ZipReader } from './zip.js';
export { ZipWriter, buildZip, writeZipSync } from './zipwrite.js';
export { bufferSource, fileSource } from './source.js';

export type ModelFormat = 'pt-zip' | 'pt-legacy' | 'safetensors' | 'onnx';

export interface ReadStateDictOptions {
  /** Keep f16/bf16/f64 tensors as stored (default: widen them to f32, as the .pt reader does). */
  keepDtype?: boolean;
  /** Check zip CRC-32s of .pt files (default true). */
  verifyCrc?: boolean;
}

export interface LoadedStateDict {
  stateDict: StateDict;
  format: ModelFormat;
  /** .pt: the checkpoint key the state_dict came from, e.g. "state_dict". */
  container?: string;
  /** .pt: a removed key prefix such as "module.". */
  strippedPrefix?: string;
  /** .pt: other top-level checkpoint entries; safetensors: the header's __metadata__. */
  extra: Record<string, unknown>;
  /** ONNX: the whole graph (its initializers are `stateDict`). */
  graph?: OnnxGraph;
}

/** Tells the format from the first bytes of a file. */
export function detectFormat(head: Uint8Array, name = '<buffer>'): ModelFormat {
  if (head.byteLength >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05)) return 'pt-zip';
  if (head.byteLength >= 2 && head[0] === 0x80 && head[1]! <= 5) return 'pt-legacy';
  if (head.byteLength >= 9 && head[8] === 0x7b && head[5] === 0 && head[6] === 0 && head[7] === 0) return 'safetensors';
  // ModelProto starts with a field tag: ir_version (1, varint) in every exporter we know of.
  if (head.byteLength >= 2 && (head[0] === 0x08 || head[0] === 0x12 || head[0] === 0x1a || head[0] === 0x3a || head[0] === 0x42)) return 'onnx';
  const hex = Buffer.from(head.subarray(0, 8)).toString('hex');
  throw new Error(`${name}: unknown model format (first bytes ${hex}); expected a PyTorch .pt/.pth (zip or legacy), safetensors or ONNX file`);
}

function widen(sd: StateDict, keep: boolean | undefined): StateDict {
  if (keep) return sd;
  const out: StateDict = new Map();
  for (const [k, t] of sd) {
    const w: RawTensor = t.dtype === 'f16' || t.dtype === 'bf16' || t.dtype === 'f64' ? { dtype: 'f32', shape: t.shape, data: toFloat32(t) } : t;
    out.set(k, w);
  }
  return out;
}

function readHead(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const b = new Uint8Array(16);
    const n = readSync(fd, b, 0, 16, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Reads a model file (path) or its bytes into a state_dict, whatever its format. */
/** The format of a file on disk, from its first bytes. */
export function detectFileFormat(path: string): ModelFormat {
  return detectFormat(readHead(path), path);
}

export function readStateDictSync(input: string | Uint8Array, opts: ReadStateDictOptions = {}): LoadedStateDict {
  const name = typeof input === 'string' ? input : '<buffer>';
  const format = detectFormat(typeof input === 'string' ? readHead(input) : input.subarray(0, 16), name);
  switch (format) {
    case 'pt-zip':
    case 'pt-legacy': {
      const r = readTorchFile(input, { keepDtype: opts.keepDtype ?? false, verifyCrc: opts.verifyCrc ?? true });
      const out: LoadedStateDict = { stateDict: r.stateDict, format, extra: r.extra };
      if (r.container) out.container = r.container;
      if (r.strippedPrefix) out.strippedPrefix = r.strippedPrefix;
      return out;
    }
    case 'safetensors': {
      const r = typeof input === 'string' ? readSafetensorsSync(input) : parseSafetensors(input);
      return { stateDict: widen(r.tensors, opts.keepDtype), format, extra: r.metadata };
    }
    case 'onnx': {
      const graph = typeof input === 'string' ? readOnnx(input) : parseOnnx(input);
      return { stateDict: widen(graph.initializers, opts.keepDtype), format, extra: {}, graph };
    }
  }
}

/** Async twin of readStateDictSync (safetensors files are read with async I/O; the rest in one go). */
export async function readStateDict(input: string | Uint8Array, opts: ReadStateDictOptions = {}): Promise<LoadedStateDict> {
  if (typeof input === 'string' && detectFormat(readHead(input), input) === 'safetensors') {
    const r = await readSafetensors(input);
    return { stateDict: widen(r.tensors, opts.keepDtype), format: 'safetensors', extra: r.metadata };
  }
  return readStateDictSync(input, opts);
}
