// The search's checkpoint: everything needed to continue a run after a crash or kill and end
// bit for bit where an uninterrupted run would. One safetensors file (tensors + a JSON state in
// its metadata), written to a temporary file and renamed, so a kill never leaves a torn file.
import { existsSync, renameSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { readSafetensorsSync, writeSafetensorsSync } from '../io/safetensors.js';
import type { RawTensor } from '../io/types.js';
import type { EpochLog } from './report-types.js';
import type { SelectionState } from './selection.js';

export interface Snapshot {
  masks: Float32Array[];
  head: Float32Array[];
}

export type OptimizerSnapshot = { step: number; buffers: Record<string, Float32Array> }[];

export interface SearchCheckpoint {
  /** options that must be the same to resume (JSON) */
  optionsKey: string;
  nextEpoch: number;
  elapsedSeconds: number;
  acc0: number;
  selection: SelectionState;
  stopped: boolean;
  log: EpochLog[];
  current: Snapshot;
  best: Snapshot | null;
  fallback: Snapshot | null;
  optimizers: Record<string, OptimizerSnapshot>;
}

const f32 = (data: Float32Array): RawTensor => ({ dtype: 'f32', shape: [data.length], data });

export function saveCheckpoint(path: string, c: SearchCheckpoint): void {
  const tensors = new Map<string, RawTensor>();
  const putSnap = (name: string, s: Snapshot | null): void => {
    if (!s) return;
    s.masks.forEach((m, i) => tensors.set(`${name}.mask.${i}`, f32(m)));
    s.head.forEach((h, i) => tensors.set(`${name}.head.${i}`, f32(h)));
  };
  putSnap('current', c.current);
  putSnap('best', c.best);
  putSnap('fallback', c.fallback);
  const optSteps: Record<string, { step: number; buffers: string[] }[]> = {};
  for (const [name, snap] of Object.entries(c.optimizers)) {
    optSteps[name] = snap.map((p, i) => {
      for (const [b, v] of Object.entries(p.buffers)) tensors.set(`opt.${name}.${i}.${b}`, f32(v));
      return { step: p.step, buffers: Object.keys(p.buffers) };
    });
  }
  const state = {
    version: 1, optionsKey: c.optionsKey, nextEpoch: c.nextEpoch, elapsedSeconds: c.elapsedSeconds, acc0: c.acc0,
    selection: { ...c.selection, fallbackScore: Number.isFinite(c.selection.fallbackScore) ? c.selection.fallbackScore : null },
    stopped: c.stopped, log: c.log, optSteps,
    counts: { masks: c.current.masks.length, head: c.current.head.length, best: c.best !== null, fallback: c.fallback !== null },
  };
  // host and pid: queue workers on several machines may share the folder (same search, same bytes)
  const tmp = `${path}.tmp-${hostname()}-${process.pid}`;
  try {
    writeSafetensorsSync(tmp, tensors, { seam_search_state: JSON.stringify(state) });
    renameSync(tmp, path);
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
}

export function loadCheckpoint(path: string): SearchCheckpoint {
  const { tensors, metadata } = readSafetensorsSync(path);
  const raw = metadata.seam_search_state;
  if (!raw) throw new Error(`${path}: not a seam search checkpoint (no seam_search_state metadata)`);
  const st = JSON.parse(raw);
  if (st.version !== 1) throw new Error(`${path}: unsupported checkpoint version ${st.version}`);
  const get = (k: string): Float32Array => {
    const t = tensors.get(k);
    if (!t || t.dtype !== 'f32') throw new Error(`${path}: checkpoint lacks tensor ${k}`);
    return t.data as Float32Array;
  };
  const snap = (name: string): Snapshot => ({
    masks: Array.from({ length: st.counts.masks }, (_, i) => get(`${name}.mask.${i}`)),
    head: Array.from({ length: st.counts.head }, (_, i) => get(`${name}.head.${i}`)),
  });
  const optimizers: Record<string, OptimizerSnapshot> = {};
  for (const [name, params] of Object.entries(st.optSteps as Record<string, { step: number; buffers: string[] }[]>)) {
    optimizers[name] = params.map((p, i) => ({ step: p.step, buffers: Object.fromEntries(p.buffers.map((b) => [b, get(`opt.${name}.${i}.${b}`)])) }));
  }
  const selection = { ...st.selection, fallbackScore: st.selection.fallbackScore ?? -Infinity } as SelectionState;
  return {
    optionsKey: st.optionsKey, nextEpoch: st.nextEpoch, elapsedSeconds: st.elapsedSeconds, acc0: st.acc0, selection,
    stopped: st.stopped, log: st.log, current: snap('current'), best: st.counts.best ? snap('best') : null,
    fallback: st.counts.fallback ? snap('fallback') : null, optimizers,
  };
}
