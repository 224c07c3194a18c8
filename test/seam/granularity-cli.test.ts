// Issue 16 end to end: `seam reengineer --granularity` checks its value; `seam compare` builds the
// research table (text, CSV, HTML) from run folders; `seam bench-model` adds onnxruntime timings
// of the original and the exported model when onnxruntime-node is installed.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/models/load.js';
import { Conv2d, type Module } from '../../src/nn/index.js';
import { loadReengineered } from '../../src/export/pruned.js';
import { saveMaskFile } from '../../src/seam/mask-file.js';
import { attachMasks, maskRatio } from '../../src/seam/masks.js';
import { countFlops } from '../../src/seam/flops.js';
import { runCli } from '../helpers/cli.js';
import { goldenPath } from '../helpers/golden.js';
import { seededHead, tempDir } from '../helpers/export-fixtures.js';
import { ort, ORT_MISSING } from '../helpers/ort.js';
import { Rng } from '../../src/util/rng.js';

const run = runCli;

const SAMPLE = [3, 32, 32];

/** A run folder as `seam reengineer` leaves it (masks.pt + report.json), for the golden ResNet20. */
function runFolder(root: string, name: string, granularity: 'weight' | 'channel'): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const model = loadModel(goldenPath('cifar10_resnet20.pt')).model;
  let retention = 1;
  if (granularity === 'weight') {
    copyFileSync(goldenPath('cifar10_resnet20.seam_masks.pt'), join(dir, 'masks.pt'));
  } else {
    const masks = attachMasks(model, { granularity, sampleShape: SAMPLE });
    const rng = new Rng(2);
    for (const m of masks) if (m.granularity === 'channel') for (let i = 0; i < m.mask.size; i++) if (rng.nextFloat() < 0.5) m.mask.f32[i] = -1;
    retention = maskRatio(masks).item();
    saveMaskFile(join(dir, 'masks.pt'), masks, seededHead(10));
  }
  const flops = countFlops(model, SAMPLE);
  const report = {
    model: { file: goldenPath('cifar10_resnet20.pt'), arch: 'cifar_resnet20', format: 'pt-zip', parameters: 0 },
    options: { granularity }, originalAccuracy: 0.9, accuracy: 0.91, retention, bestEpoch: 3, epochsRun: 5,
    flops: { dense: flops.dense, effective: flops.effective }, sampleShape: SAMPLE, layers: [], epochs: [],
  };
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
  return dir;
}

describe('issue 16 commands', () => {
  it('reengineer refuses an unknown granularity', async () => {
    const r = await run(['reengineer', '--model', 'm.pt', '--data', 'cifar10:x', '--target-class', '0', '--out', tempDir(), '--granularity', 'neuron']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--granularity must be one of weight, kernel, channel, got "neuron"/);
  });

  it('compare writes one row per run, as text, CSV and HTML', async () => {
    const root = tempDir();
    const dirs = [runFolder(root, 'w', 'weight'), runFolder(root, 'c', 'channel')];
    const out = join(root, 'table');
    const r = await run(['compare', ...dirs, '--reps', '1', '--batch', '2', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { rows, note } = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(rows.map((x: { run: string; granularity: string }) => [x.run, x.granularity])).toEqual([['w', 'weight'], ['c', 'channel']]);
    expect(rows[1].epochsToChosen).toBe(4);
    expect(rows[1].flopsCompacted).toBeLessThan(rows[0].flopsCompacted);
    expect(note).toMatch(/batch 2, median of 1 rounds/);
    const csv = readFileSync(join(out, 'compare.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[0]).toMatch(/^run,granularity,original accuracy,accuracy,weights kept,/);
    expect(csv[0]).toMatch(/ms dense,ms sparse,ms compacted,ms compacted\+sparse/);
    if (ort) expect(csv[0]).toMatch(/ms ort original 1t,ms ort exported 1t,ms ort original 2t,ms ort exported 2t/);
    expect(csv[2].split(',')[1]).toBe('channel');
    expect(readFileSync(join(out, 'compare.html'), 'utf8')).toMatch(/<td>c<\/td><td>channel<\/td>/);
    const missing = await run(['compare', join(root, 'nothing')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no report\.json/);
    expect(existsSync(join(out, 'compare.html'))).toBe(true);
  });

  it('export --compact-channels keeps multiples of 16 channels in ONNX by default, every dead channel elsewhere', async () => {
    const root = tempDir();
    const masks = join(runFolder(root, 'c', 'channel'), 'masks.pt');
    const convWidths = (file: string): number[] => {
      const model: Module = file.endsWith('.onnx') ? loadModel(file).model : loadReengineered(file).model;
      return [...model.namedModules()].filter(([, m]) => m instanceof Conv2d).map(([, m]) => (m as Conv2d).outChannels);
    };
    const exportTo = async (file: string, extra: string[] = []): Promise<number[]> => {
      const r = await run(['export', '--model', goldenPath('cifar10_resnet20.pt'), '--masks', masks, '--compact-channels', '--out', file, '--quiet', ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return convWidths(file);
    };
    const onnx = await exportTo(join(root, 'default.onnx'));
    expect(onnx.every((c) => c % 16 === 0), `onnx widths ${onnx}`).toBe(true);
    const single = await exportTo(join(root, 'm1.onnx'), ['--channel-multiple', '1']);
    expect(single.some((c) => c % 16 !== 0), `--channel-multiple 1 widths ${single}`).toBe(true);
    expect(single.reduce((a, b) => a + b)).toBeLessThan(onnx.reduce((a, b) => a + b));
    expect(await exportTo(join(root, 'm.safetensors'))).toEqual(single);
  });

  it.skipIf(!ort)(`bench-model times the original and the exported model in onnxruntime${ort ? '' : ` (skipped: ${ORT_MISSING})`}`, async () => {
    const dir = runFolder(tempDir(), 'c', 'channel');
    const r = await run(['bench-model', '--model', goldenPath('cifar10_resnet20.pt'), '--masks', join(dir, 'masks.pt'), '--reps', '1', '--batch', '2',
      '--ort-threads', '1', '--channel-multiple', '8', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ort.map((e: { name: string; threads: number }) => [e.name, e.threads])).toEqual([['ort original', 1], ['ort exported', 1]]);
    expect(out.ortMaxAbsDiff).toBeLessThan(1e-3);
    expect(out.files.onnxExportedBytes).toBeLessThan(out.files.onnxOriginalBytes);
    expect(out.channelMultiple).toEqual({ ours: 8, ort: 8 });
    const text = await run(['bench-model', '--model', goldenPath('cifar10_resnet20.pt'), '--masks', join(dir, 'masks.pt'), '--reps', '1', '--batch', '2', '--ort-threads', '1']);
    expect(text.stdout).toMatch(/onnxruntime, 1 thread: exported model [\d.]+x faster than the original/);
    // by default onnxruntime runs the ONNX `seam export` writes: multiples of 16 channels, so more FLOPs than ours
    expect(text.stdout).toMatch(/compaction keeps multiples of 1 channels, 16 in the ONNX for onnxruntime/);
    const byDefault = JSON.parse((await run(['bench-model', '--model', goldenPath('cifar10_resnet20.pt'), '--masks', join(dir, 'masks.pt'),
      '--reps', '1', '--batch', '2', '--ort-threads', '1', '--json'])).stdout);
    const compacted = byDefault.variants.find((e: { name: string }) => e.name === 'compacted');
    const exported = byDefault.ort.find((e: { name: string }) => e.name === 'ort exported');
    expect(exported.flops).toBeGreaterThan(compacted.flops);
    expect(byDefault.ortMaxAbsDiff).toBeLessThan(1e-3);
  });
});
