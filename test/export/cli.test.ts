// `seam export` end to end on the golden ResNet20 and its SeaM mask file.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/node.js';
import { loadModel } from '../../src/models/load.js';
import { loadReengineered, reengineeredLogits } from '../../src/export/pruned.js';
import { goldenPath, itNeeds, loadGolden, relErr, TOL_CONV_GEMM } from '../helpers/golden.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/export-fixtures.js';

const io = loadGolden('cifar10_resnet20.seam_masks.io.safetensors');
const base = ['export', '--model', goldenPath('cifar10_resnet20.pt'), '--masks', goldenPath('cifar10_resnet20.seam_masks.pt'), '--quiet'];

const run = runCli;

describe('seam export', () => {
  it('writes pt, compact and channel-compacted safetensors that reproduce the re-engineered logits', async () => {
    const dir = tempDir();
    for (const [format, extra] of [['pt', []], ['compact', ['--json']], ['safetensors', ['--compact-channels', '--json']]] as const) {
      const out = join(dir, `m.${format}`);
      const r = await run([...base, '--format', format, '--out', out, ...extra]);
      expect(r.code, r.stderr).toBe(0);
      const back = loadReengineered(out);
      const err = relErr(reengineeredLogits(back.model, back.head!, io.get('input')).data, io.get('logits').data);
      expect(err, `${format}: relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
      if (format === 'compact') expect(JSON.parse(r.stdout).bytes).toBeLessThan(JSON.parse(r.stdout).dense_bytes);
      if (format === 'safetensors') expect(JSON.parse(r.stdout)).toHaveProperty('parameters');
    }
  });

  it('onnx: the exported graph (model + head, pruned weights) reproduces the re-engineered logits', async () => {
    const out = join(tempDir(), 'm.onnx');
    const r = await run([...base, '--format', 'onnx', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const graph = loadModel(out);
    expect(graph.format).toBe('onnx');
    const logits = noGrad(() => graph.model.forward(io.get('input')));
    const err = relErr(logits.data, io.get('logits').data);
    expect(err, `relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
  });

  it('bad usage is exit code 2 with the usage line', async () => {
    const r = await run(['export', '--model', goldenPath('cifar10_resnet20.pt'), '--out', 'x.pt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing --model, --masks or --out/);
    const f = await run([...base, '--format', 'zip', '--out', 'x']);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/--format must be one of pt, safetensors, onnx, compact/);
  });

  itNeeds(['golden/resnet_bottleneck_1111_w16.pt'], 'a mask file for another model is a clear error', async () => {
    const wrong = await run(['export', '--model', goldenPath('resnet_bottleneck_1111_w16.pt'), '--masks', goldenPath('cifar10_resnet20.seam_masks.pt'), '--out', join(tempDir(), 'x.pt'), '--quiet']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/conv1\.weight_mask has shape \[16, 3, 3, 3\], the parameter has \[64, 3, 7, 7\]/);
  });
});

describe('seam bench-model', () => {
  it('reports dense, sparse and compacted variants with FLOPs, parameters and file sizes', async () => {
    const r = await run(['bench-model', '--model', goldenPath('cifar10_resnet20.pt'), '--masks', goldenPath('cifar10_resnet20.seam_masks.pt'), '--reps', '2', '--batch', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.variants.map((v: { name: string }) => v.name)).toEqual(['dense', 'sparse', 'compacted', 'compacted+sparse']);
    const [dense, sparse] = out.variants;
    expect(sparse.flops).toBeLessThan(dense.flops);
    expect(sparse.parameters).toBeLessThan(dense.parameters);
    expect(out.files.compactBytes).toBeLessThan(out.files.denseBytes);
    for (const v of out.variants) expect(v.ms).toBeGreaterThan(0);
  });
});
