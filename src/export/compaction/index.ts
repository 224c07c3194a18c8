// Structured compaction (issue 6, item 2): remove the channels and linear units SeaM's masks made
// constant, folding their constant into the consumers, and rebuild the model as ordinary dense
// layers with smaller shapes. The model (and head) are changed in place; masks are baked in.
import type { Module } from '../../nn/index.js';
import { Conv2d, Linear } from '../../nn/index.js';
import { countFlops } from '../../seam/flops.js';
import { Compactor, displayPath, type KeptChannel } from './analyze.js';
import { traceModel } from './graph.js';
import { buildLayer, parameterCount, replaceModule } from './rebuild.js';

export { traceModel, ChannelGraph } from './graph.js';
export { fitToStateDict, replaceModule, parameterCount } from './rebuild.js';
export type { KeptChannel } from './analyze.js';

export interface LayerChannels {
  layer: string;
  before: number;
  after: number;
  /** output channels (units) removed, by their original index */
  removed: number[];
  /** input channels (features) removed */
  inputsRemoved: number;
}

export interface FlopsBeforeAfter {
  /** every weight counted */
  dense: number;
  /** zero weights do no work */
  effective: number;
}

export interface CompactionReport {
  layers: LayerChannels[];
  kept: KeptChannel[];
  channelsRemoved: number;
  passes: number;
  parameters: { before: number; after: number };
  /** per sample, when a sample shape was given */
  flops?: { before: FlopsBeforeAfter; after: FlopsBeforeAfter };
}

export interface CompactOptions {
  /** input shape of one sample ([C, H, W]) for the FLOPs count; omitted: no FLOPs in the report */
  sampleShape?: readonly number[];
  /** keep a multiple of this many channels in every layer that lost some, adding zero channels
   *  (exact: they output 0) where needed, like Torch-Pruning's round_to: runtimes such as
   *  onnxruntime run convolutions in channel blocks of 8 or 16 and fall back to slower kernels
   *  otherwise. A layer with every channel removed keeps a single zero channel at any multiple (a
   *  dead block padded back to a full multiple would cost as much as a live one). Default 1. */
  channelMultiple?: number;
}

/** Channel counts a compacted ONNX keeps unless asked otherwise. onnxruntime's fast (NCHWc)
 *  convolutions need multiples of 16 on AVX-512: with single channels removed, compacted exports of
 *  the Fashion-MNIST ResNet20 ran slower than the original (weight masks, batch 16: 6.84 vs 5.95 ms
 *  at 1 thread, 6.20 vs 3.44 at 2), and every granularity ran faster at multiples of 16 (channel
 *  masks: 4.03 / 2.49 ms against 4.68 / 3.14). Our own engines run fastest with every dead channel
 *  removed (multiple 1). */
export const ONNX_CHANNEL_MULTIPLE = 16;

/** Zero channels to add to each channel group: up to a multiple of `multiple` (at most the
 *  original count); a group with no channel left gets exactly one. */
function groupPadding(c: Compactor, multiple: number): Map<number, number> {
  const pad = new Map<number, number>();
  for (const w of c.work.values()) {
    const g = c.group(w.node.id);
    if (pad.has(g)) continue;
    const n = w.outN;
    const k = w.removedOut.reduce((a, r) => a + (r ? 0 : 1), 0);
    const target = k === n ? n : k === 0 ? 1 : Math.min(n, Math.ceil(k / multiple) * multiple);
    pad.set(g, target - k);
  }
  return pad;
}

function flopsOf(model: Module, head: Module | null, sample: readonly number[]): FlopsBeforeAfter {
  const f = countFlops(model, sample);
  let dense = f.dense;
  let effective = f.effective;
  const linear = head ? [...head.namedModules()].map(([, m]) => m).find((m): m is Linear => m instanceof Linear) : undefined;
  if (linear) {
    dense += 2 * linear.weight.size;
    effective += 2 * linear.weight.f32.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0);
  }
  return { dense, effective };
}

/**
 * Compacts `model` (+ `head`, SeaM's Sequential(ReLU, Linear)) in place: masks are baked in, the
 * removable constant channels are gone, and head(model(x)) equals the masked model's up to float
 * rounding. Returns what changed.
 */
export function compactModel(model: Module, head: Module | null, opts: CompactOptions = {}): CompactionReport {
  const paramsBefore = parameterCount(model, ...(head ? [head] : []));
  const flopsBefore = opts.sampleShape ? flopsOf(model, head, opts.sampleShape) : undefined;
  const multiple = opts.channelMultiple ?? 1;
  if (!Number.isInteger(multiple) || multiple < 1) throw new Error(`compaction: channelMultiple must be an integer >= 1, got ${multiple}`);
  const graph = traceModel(model, head);
  const c = new Compactor(graph);
  const passes = c.run();
  const pad = groupPadding(c, multiple);
  const layers: LayerChannels[] = [];
  for (const w of c.work.values()) {
    const n = w.node;
    const perIn = w.inN / graph.channels(n.input);
    const { layer, bn } = buildLayer(w, pad.get(c.group(n.id)) ?? 0, (pad.get(c.group(n.input)) ?? 0) * perIn);
    const root = n.root === 'head' ? head! : model;
    replaceModule(root, n.path, layer);
    if (bn && n.kind === 'conv' && n.bnPath) replaceModule(root, n.bnPath, bn);
    const removed = [...w.removedOut.keys()].filter((i) => w.removedOut[i]);
    layers.push({
      layer: displayPath(n), before: w.outN, after: layer instanceof Linear ? layer.outFeatures : (layer as Conv2d).outChannels, removed,
      inputsRemoved: w.removedIn.reduce((a, v) => a + v, 0),
    });
  }
  model.eval();
  head?.eval();
  const report: CompactionReport = {
    layers, kept: c.kept, passes,
    channelsRemoved: layers.reduce((a, l) => a + l.before - l.after, 0),
    parameters: { before: paramsBefore, after: parameterCount(model, ...(head ? [head] : [])) },
  };
  if (opts.sampleShape && flopsBefore) report.flops = { before: flopsBefore, after: flopsOf(model, head, opts.sampleShape) };
  return report;
}

/** A short human-readable summary of a compaction report. */
export function formatCompactionReport(r: CompactionReport): string {
  const lines: string[] = [];
  const changed = r.layers.filter((l) => l.removed.length || l.inputsRemoved);
  lines.push(`channels/units removed: ${r.channelsRemoved} in ${changed.length} layers (${r.passes} passes)`);
  for (const l of changed) lines.push(`  ${l.layer}: ${l.before} -> ${l.after} outputs${l.inputsRemoved ? `, ${l.inputsRemoved} inputs removed` : ''}`);
  const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
  lines.push(`parameters: ${r.parameters.before} -> ${r.parameters.after} (${pct(r.parameters.after, r.parameters.before)})`);
  if (r.flops) {
    lines.push(`FLOPs/sample dense: ${r.flops.before.dense} -> ${r.flops.after.dense} (${pct(r.flops.after.dense, r.flops.before.dense)})`);
    lines.push(`FLOPs/sample effective (nonzero weights): ${r.flops.before.effective} -> ${r.flops.after.effective}`);
  }
  if (r.kept.length) {
    lines.push(`constant channels kept: ${r.kept.length}`);
    const byReason = new Map<string, number>();
    for (const k of r.kept) {
      const key = k.reason.replace(/constant -?[\d.e+-]+ /, 'constant ');
      byReason.set(key, (byReason.get(key) ?? 0) + 1);
    }
    for (const [reason, n] of byReason) lines.push(`  ${n} x ${reason}`);
  }
  return lines.join('\n');
}
