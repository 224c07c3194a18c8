// `seam defect`: defect inheritance of a pretrained model reused on a new dataset (SEAM.md §4):
// standard fine-tuning vs SeaM (output layer, re-engineer, zero the masked weights, fine-tune),
// each attacked with feature-space PGD crafted on the pretrained model; writes report.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataSpecFromArgs, evalLoader, openData, Rng, Subset, trainLoader, type Dataset } from '../data/index.js';
import { loadModel } from '../models/load.js';
import { buildModel } from '../models/zoo.js';
import { runDefectPipeline, type DefectOptions, type DefectResult } from '../seam/defect.js';
import { parseNumberList } from '../data/spec.js';
import { intFlag, numFlag, UsageError } from './args.js';
import { COMMON_OPTIONS, parseCommand, type CommandSpec } from './command.js';
import { DefectProgress } from './defect-progress.js';
import { MODEL_DATA_OPTIONS } from './reengineer.js';

export const DEFECT = {
  name: 'defect',
  summary: 'defect inheritance: reuse a pretrained model on new data by standard fine-tuning and by SeaM, attack both, report accuracy and DIR',
  options: {
    ...MODEL_DATA_OPTIONS,
    out: { value: 'DIR', required: true, help: 'output folder (report.json)' },
    'train-samples': { value: 'N', help: 'a seeded sample of the training split', default: 'all of it' },
    'test-samples': { value: 'N', help: 'a seeded sample of the test split', default: 'all of it' },
    'val-fraction': { value: 'F', help: 'hold out this fraction of the training data for model selection', default: '0 (the test split decides, as in the paper)' },
    'batch-size': { value: 'N', help: 'training batch size', default: '64' },
    seed: { value: 'N', help: 'seed of the samples, shuffling and attack', default: '0' },
    'output-epochs': { value: 'N', help: 'SeaM step 1: epochs training only the new output layer', default: '30' },
    'output-lr': { value: 'LR', help: 'SeaM step 1: its SGD learning rate', default: '0.1' },
    epochs: { value: 'N', help: 'SeaM step 2: epochs of the mask search', default: '300' },
    'prune-threshold': { value: 'R', help: 'SeaM step 2: stop once 1 - retained ratio reaches R', default: '0.6' },
    alpha: { value: 'A', help: 'SeaM step 2: weight of the retained-weight ratio', default: '1' },
    'lr-mask': { value: 'LR', help: 'SeaM step 2: Adam learning rate of the masks', default: '0.05' },
    'lr-output': { value: 'LR', help: 'SeaM step 2: learning rate of the output layer', default: '--lr-mask' },
    'early-stop': { value: 'N', help: 'SeaM step 2: patience in epochs', default: '30' },
    'finetune-epochs': { value: 'N', help: 'fine-tuning epochs (standard and SeaM step 3)', default: '100' },
    'lr-hidden': { value: 'LR', help: 'fine-tuning SGD learning rate of the hidden layers', default: '0.005' },
    'lr-finetune-output': { value: 'LR', help: 'fine-tuning SGD learning rate of the output layer', default: '0.05' },
    momentum: { value: 'M', help: 'fine-tuning SGD momentum', default: '0' },
    'weight-decay': { value: 'W', help: 'fine-tuning weight decay', default: '1e-4' },
    'finetune-early-stop': { value: 'N', help: 'fine-tuning patience in epochs', default: '30' },
    'keep-pruned': { help: 'SeaM step 3: keep the masked-out weights at zero while fine-tuning' },
    eps: { value: 'E', help: 'PGD L-inf radius, in normalised input units', default: '0.1' },
    steps: { value: 'N', help: 'PGD steps', default: '40' },
    'step-size': { value: 'S', help: 'PGD step size', default: '0.01' },
    clip: { value: 'LO,HI|pixel|none', help: 'clip range of adversarial inputs (write --clip=-2.2,2.2)', default: '-2.2,2.2' },
    'attack-samples': { value: 'N', help: 'test samples attacked', default: '500' },
    json: { help: "print the report's summary on stdout" },
    quiet: COMMON_OPTIONS.quiet,
  },
  example: 'seam defect --model examples/fmnist/fmnist_resnet20.pt --data mnist:/tmp/mnist --mean 0.2860 --std 0.3530 --train-samples 2000 --out runs/defect',
} as const satisfies CommandSpec;

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
  const parsed = parseCommand(DEFECT, argv);
  if (!parsed) return 0;
  const v = parsed.values;
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
