// `seam defect`: defect inheritance of a pretrained model reused on a new dataset (SEAM.md §4):
// standard fine-tuning vs SeaM (output layer, re-engineer, zero the masked weights, fine-tune),
// each attacked with feature-space PGD crafted on the pretrained model; writes report.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dataSpecFromArgs, evalLoader, openData, Rng, Subset, trainLoader, type Dataset } from '../data/index.js';
import { loadModel } from '../models/load.js';
import { buildModel } from '../models/zoo.js';
import { runDefectPipeline, type DefectOptions, type DefectResult } from '../seam/defect.js';
import { parseNumberList } from '../data/spec.js';
import { intFlag, numFlag, UsageError } from './args.js';
import { DefectProgress } from './defect-progress.js';

export const DEFECT_USAGE = `seam defect --model FILE [--arch NAME] --data KIND:PATH [--mean M] [--std S] --out DIR
    [--train-samples N] [--test-samples N] [--val-fraction 0] [--batch-size 64] [--seed 0]
    [--output-epochs 30] [--output-lr 0.1]
    [--epochs 300] [--prune-threshold 0.6] [--alpha 1] [--lr-mask 0.05] [--lr-output LR_MASK] [--early-stop 30]
    [--finetune-epochs 100] [--lr-hidden 0.005] [--lr-finetune-output 0.05] [--momentum 0] [--weight-decay 1e-4]
    [--finetune-early-stop 30] [--keep-pruned]
    [--eps 0.1] [--steps 40] [--step-size 0.01] [--clip=-2.2,2.2|pixel|none] [--attack-samples 500] [--json] [--quiet]`;

/** The first `n` samples of a seeded permutation of `ds` (all of it when n is undefined or larger). */
function sample(ds: Dataset, n: number | undefined, seed: number, name: string): Dataset {
  if (n === undefined || n >= ds.length) return ds;
  const idx = new Rng(seed).permutation(ds.length).slice(0, n);
  return new Subset(ds, idx, Int32Array.from(idx, (i) => ds.labels[i]!), ds.classNames, `${ds.name} (${name}: ${n} of ${ds.length})`);
}

function split(ds: Dataset, fraction: number, seed: number): { train: Dataset; val: Dataset } {
  const perm = new Rng(seed).permutation(ds.length);
  const nVal = Math.round(fraction * ds.length);
  const pick = (idx: Int32Array, what: string): Dataset =>
    new Subset(ds, idx, Int32Array.from(idx, (i) => ds.labels[i]!), ds.classNames, `${ds.name} (${what})`);
  return { val: pick(perm.slice(0, nVal), 'validation'), train: pick(perm.slice(nVal), 'training') };
}

function parseClip(v: string | undefined, pixelRange: [number, number]): [number, number] | null {
  if (v === undefined) return [-2.2, 2.2];
  if (v === 'none') return null;
  if (v === 'pixel') return pixelRange;
  const c = parseNumberList(v, '--clip');
  if (c.length !== 2 || !(c[0]! < c[1]!)) throw new UsageError(`--clip "${v}": expected LO,HI with LO < HI, "pixel" or "none"`);
  return [c[0]!, c[1]!];
}

const optFlag = (v: string | undefined, name: string): number | undefined => (v === undefined ? undefined : intFlag(v, name, 0));

export async function defectCommand(argv: string[]): Promise<number> {
  const str = { type: 'string' } as const;
  const { values: v } = parseArgs({
    args: argv,
    options: {
      model: str, arch: str, data: str, mean: str, std: str, out: str, 'train-samples': str, 'test-samples': str, 'val-fraction': str,
      'batch-size': str, seed: str, 'output-epochs': str, 'output-lr': str, epochs: str, 'prune-threshold': str, alpha: str, 'lr-mask': str,
      'lr-output': str, 'early-stop': str, 'finetune-epochs': str, 'lr-hidden': str, 'lr-finetune-output': str, momentum: str,
      'weight-decay': str, 'finetune-early-stop': str, 'keep-pruned': { type: 'boolean' }, eps: str, steps: str, 'step-size': str, clip: str,
      'attack-samples': str, json: { type: 'boolean' }, quiet: { type: 'boolean' },
    },
    strict: true,
  });
  if (!v.model || !v.data || !v.out) throw new UsageError(`missing --model, --data or --out\n${DEFECT_USAGE}`);
  const seed = intFlag(v.seed, 'seed', 0);
  const batchSize = intFlag(v['batch-size'], 'batch-size', 64);
  const valFraction = numFlag(v['val-fraction'], 'val-fraction', 0);
  if (!(valFraction >= 0 && valFraction < 1)) throw new UsageError(`--val-fraction must be in [0, 1), got ${valFraction}`);
  parseClip(v.clip, [0, 1]); // flag errors before any loading
  const log = (s: string): void => void (v.quiet || process.stderr.write(`${s}\n`));

  const loaded = loadModel(v.model, { arch: v.arch });
  log(`model: ${v.model} (${loaded.format}), architecture ${loaded.arch} (${loaded.reason})`);
  const pretrained = (): ReturnType<typeof buildModel> => {
    const m = buildModel(loaded.arch, loaded.options);
    m.loadStateDict(loaded.stateDict);
    m.eval();
    return m;
  };
  const data = await openData(dataSpecFromArgs({ data: v.data, mean: v.mean, std: v.std }));
  if (data.channels !== (loaded.options.inChannels ?? data.channels)) {
    throw new UsageError(`the model takes ${loaded.options.inChannels} input channels, the data has ${data.channels}`);
  }
  const trainAll = sample(data.train, optFlag(v['train-samples'], 'train-samples'), seed + 1, 'training sample');
  const test = sample(data.test, optFlag(v['test-samples'], 'test-samples'), seed + 2, 'test sample');
  const { train, val } = valFraction > 0 ? split(trainAll, valFraction, seed + 3) : { train: trainAll, val: test };
  const attackSet = sample(test, intFlag(v['attack-samples'], 'attack-samples', 500), seed + 4, 'attack sample');
  log(`data: ${train.length} training, ${val === test ? 'the test split as' : `${val.length}`} validation, ${test.length} test samples, ` +
    `${data.train.numClasses} classes; normalisation mean ${data.normalization.mean.join(',')} std ${data.normalization.std.join(',')}`);

  const { mean, std } = data.normalization;
  const pixelRange: [number, number] = [Math.min(...mean.map((m, c) => -m / std[c]!)), Math.max(...mean.map((m, c) => (1 - m) / std[c]!))];
  const options: DefectOptions = {
    seed,
    outputLayer: { epochs: intFlag(v['output-epochs'], 'output-epochs', 30), lr: numFlag(v['output-lr'], 'output-lr', 0.1) },
    search: {
      epochs: intFlag(v.epochs, 'epochs', 300), pruneThreshold: numFlag(v['prune-threshold'], 'prune-threshold', 0.6),
      alpha: numFlag(v.alpha, 'alpha', 1), lrMask: numFlag(v['lr-mask'], 'lr-mask', 0.05),
      lrOutput: v['lr-output'] === undefined ? undefined : numFlag(v['lr-output'], 'lr-output', 0), earlyStop: intFlag(v['early-stop'], 'early-stop', 30),
    },
    finetune: {
      epochs: intFlag(v['finetune-epochs'], 'finetune-epochs', 100), lrHidden: numFlag(v['lr-hidden'], 'lr-hidden', 0.005),
      lrOutput: numFlag(v['lr-finetune-output'], 'lr-finetune-output', 0.05), momentum: numFlag(v.momentum, 'momentum', 0),
      weightDecay: numFlag(v['weight-decay'], 'weight-decay', 1e-4), earlyStop: intFlag(v['finetune-early-stop'], 'finetune-early-stop', 30),
    },
    keepPruned: Boolean(v['keep-pruned']),
    attack: {
      eps: numFlag(v.eps, 'eps', 0.1), steps: intFlag(v.steps, 'steps', 40), stepSize: numFlag(v['step-size'], 'step-size', 0.01),
      clip: parseClip(v.clip, pixelRange), seed,
    },
  };
  mkdirSync(v.out, { recursive: true });
  const progress = new DefectProgress(process.stderr, Boolean(v.quiet));
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  let r: DefectResult;
  try {
    r = await runDefectPipeline(pretrained, {
      numClasses: data.train.numClasses,
      train: trainLoader(data, train, { batchSize, seed }),
      val: evalLoader(data, val, { batchSize: 256 }),
      test: evalLoader(data, test, { batchSize: 256 }),
      attack: evalLoader(data, attackSet, { batchSize: 100 }),
    }, { ...options, signal: controller.signal, onEvent: (e) => progress.handle(e) });
  } finally {
    process.off('SIGINT', onSignal);
  }
  const report = buildReport(r, { model: v.model, arch: loaded.arch, data: v.data, normalization: data.normalization,
    samples: { train: train.length, validation: val === test ? 'test split' : val.length, test: test.length, attack: attackSet.length }, options });
  writeFileSync(join(v.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (!v.quiet) process.stderr.write(`\n${summary(r)}\nwrote ${join(v.out, 'report.json')}\n`);
  if (v.json) console.log(JSON.stringify(report.summary));
  return r.cancelled ? 130 : 0;
}

const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;

function buildReport(r: DefectResult, meta: Record<string, unknown>): Record<string, unknown> & { summary: Record<string, unknown> } {
  const ft = (f: DefectResult['standard']['finetune']): Record<string, unknown> => ({
    initialValAccuracy: f.initialAccuracy, bestEpoch: f.bestEpoch, bestValAccuracy: f.bestAccuracy, epochsRun: f.epochsRun,
    stoppedEarly: f.stoppedEarly, seconds: f.seconds, epochs: f.log,
  });
  const s = r.seam.search;
  const summary = {
    standard_accuracy: round(r.standard.accuracy), standard_dir: round(r.standard.dir.rate),
    seam_accuracy: round(r.seam.accuracy), seam_dir: round(r.seam.dir.rate), seam_retention: round(r.seam.retention),
    output_layer_only_accuracy: round(r.outputLayerOnly.accuracy), output_layer_only_dir: round(r.outputLayerOnly.dir.rate),
    dir_reduction: r.standard.dir.rate > 0 ? round(1 - r.seam.dir.rate / r.standard.dir.rate) : null,
    attack_samples: r.attack.samples, seconds: Math.round(r.seconds), cancelled: r.cancelled,
  };
  return {
    ...meta,
    summary,
    standard: { accuracy: r.standard.accuracy, dir: r.standard.dir, finetune: ft(r.standard.finetune) },
    seam: {
      accuracy: r.seam.accuracy, dir: r.seam.dir, retention: r.seam.retention,
      outputLayer: ft(r.seam.outputLayer),
      search: { initialValAccuracy: s.initialAccuracy, valAccuracy: s.accuracy, retention: s.retention, bestEpoch: s.bestEpoch, epochsRun: s.epochsRun,
        reachedThreshold: s.reachedThreshold, seconds: s.seconds, epochs: s.log, layers: s.layers },
      finetune: ft(r.seam.finetune),
    },
    outputLayerOnly: { accuracy: r.outputLayerOnly.accuracy, dir: r.outputLayerOnly.dir },
    attack: r.attack,
    seconds: r.seconds,
  };
}

function summary(r: DefectResult): string {
  const p = (x: number): string => `${(100 * x).toFixed(2)}%`.padStart(8);
  const row = (name: string, o: { accuracy: number; dir: { rate: number; fooled: number; cleanCorrect: number } }): string =>
    `${name.padEnd(34)}${p(o.accuracy)}  ${p(o.dir.rate)} (${o.dir.fooled}/${o.dir.cleanCorrect})`;
  return [
    `${''.padEnd(34)}accuracy       DIR`,
    row('standard fine-tuning', r.standard),
    row(`SeaM (${p(1 - r.seam.retention).trim()} pruned) + fine-tuning`, r.seam),
    row('output layer only (reference)', r.outputLayerOnly),
    `attack: ${r.attack.samples} samples, eps ${r.attack.eps}, ${r.attack.steps} steps of ${r.attack.stepSize}, ` +
      `clip ${r.attack.clip ? `[${r.attack.clip.join(', ')}]` : 'none'} (${r.attack.seconds.toFixed(0)}s); total ${r.seconds.toFixed(0)}s`,
  ].join('\n');
}
