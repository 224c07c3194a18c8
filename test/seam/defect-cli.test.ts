// `seam defect` end to end on files: a (random) 1-channel CIFAR ResNet20 written as .pt and a tiny
// synthetic IDX dataset with another class count; checks the exit code, --json and report.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { syntheticSplits, type ArrayDataset } from '../../src/data/index.js';
import { writeTorchFile } from '../../src/io/index.js';
import { CifarResNet } from '../../src/models/cifar-resnet.js';
import { manualSeed } from '../../src/nn/index.js';
import { toRaw } from '../../src/tensor/raw.js';

const dir = mkdtempSync(join(tmpdir(), 'seam-defect-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function idx(dims: number[], data: Uint8Array): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt8(0x08, 2);
  header.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

function writeIdx(ds: ArrayDataset, prefix: string): void {
  writeFileSync(join(dir, 'data', `${prefix}-images-idx3-ubyte`), idx([ds.length, ds.height, ds.width], ds.pixels));
  writeFileSync(join(dir, 'data', `${prefix}-labels-idx1-ubyte`), idx([ds.length], Uint8Array.from(ds.labels)));
}

describe('seam defect', () => {
  it('runs the pipeline from files and writes report.json', async () => {
    manualSeed(0);
    const model = new CifarResNet({ depth: 20, numClasses: 4, inChannels: 1 });
    const modelFile = join(dir, 'r20.pt');
    writeTorchFile(modelFile, Object.fromEntries([...model.stateDict()].map(([k, t]) => [k, toRaw(t)])));
    const s = syntheticSplits({ numClasses: 3, train: 48, test: 24, seed: 4, height: 8, width: 8 });
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    mkdirSync(join(dir, 'data'));
    writeIdx(s.train, 'train');
    writeIdx(s.test, 't10k');
    const out = join(dir, 'out');
    const logs: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((m: string) => void logs.push(m));
    const code = await main(['defect', '--model', modelFile, '--data', `idx:${join(dir, 'data')}`, '--mean', '0.5', '--std', '0.25',
      '--output-epochs', '1', '--epochs', '2', '--finetune-epochs', '1', '--batch-size', '16', '--steps', '2', '--attack-samples', '10',
      '--clip', 'pixel', '--val-fraction', '0.25', '--out', out, '--json', '--quiet']);
    spy.mockRestore();
    expect(code).toBe(0);
    const summary = JSON.parse(logs.at(-1)!);
    expect(summary.attack_samples).toBe(10);
    for (const k of ['standard_accuracy', 'standard_dir', 'seam_accuracy', 'seam_dir', 'seam_retention']) expect(typeof summary[k]).toBe('number');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.samples).toEqual({ train: 36, validation: 12, test: 24, attack: 10 });
    expect(report.attack.clip).toEqual([-2, 2]);
    expect(report.seam.search.epochsRun).toBeGreaterThan(0);
    expect(report.standard.finetune.epochs).toHaveLength(1);
  });

  it('rejects a bad clip range', async () => {
    const err: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((m) => (err.push(String(m)), true));
    const code = await main(['defect', '--model', 'x.pt', '--data', 'idx:nowhere', '--out', 'o', '--clip=2,1']);
    spy.mockRestore();
    expect(code).toBe(2);
    expect(err.join('')).toMatch(/--clip "2,1"/);
  });
});
