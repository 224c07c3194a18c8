// `seam reengineer`: load a model and a dataset, build the target problem, run SeaM's search and
// write masks.pt, log.jsonl, report.json and report.html into --out.
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { cudaStatus } from '../backend/cuda-native.js';
import {
  binaryProblem, cifar100SuperclassProblem, classListProblem, csvSuperclassProblem, dataSpecFromArgs, evalLoader, openData, trainLoader,
  type OpenedData, type TargetProblem,
} from '../data/index.js';
import { loadModel } from '../models/load.js';
import { paperDefaults } from '../seam/defaults.js';
import { countFlops } from '../seam/flops.js';
import { compactMaskPath, saveCompactMaskFile } from '../seam/mask-compact.js';
import { saveMaskFile } from '../seam/mask-file.js';
import { GRANULARITIES, type Granularity } from '../seam/masks.js';
import { layerTable, renderHtml, summaryTable, type Report } from '../seam/report.js';
import { reengineer, type SearchEvent, type SearchOptions } from '../seam/search.js';
import { SearchProgress } from './progress.js';
import { intFlag, numFlag, UsageError } from './args.js';
import { channelsForModel, checkDataFitsModel, modelInput } from './model-input.js';
import { COMMON_OPTIONS, parseCommand, type CommandSpec, type Values } from './command.js';

/** The options that name a model and a dataset, shared by reengineer and defect. */
export const MODEL_DATA_OPTIONS = {
  model: COMMON_OPTIONS.model,
  arch: COMMON_OPTIONS.arch,
  data: { value: 'KIND:PATH', required: true, help: 'the data: KIND cifar10, cifar100, mnist, fashion-mnist, idx or folder' },
  mean: { value: 'M[,M,M]', help: 'normalisation mean per channel', default: "the data kind's" },
  std: { value: 'S[,S,S]', help: 'normalisation standard deviation per channel', default: "the data kind's" },
} as const;

export const REENGINEER = {
  name: 'reengineer',
  summary: 'learn a binary mask over every weight that keeps only what a target problem needs; writes masks.pt, log.jsonl, report.json, report.html',
  options: {
    ...MODEL_DATA_OPTIONS,
    'target-class': { value: 'C', help: 'target problem: class C (index or name) against the rest' },
    'target-classes': { value: 'A,B,...', help: 'target problem: these classes (at least two), relabelled 0..k-1' },
    superclass: { value: 'N', help: 'target problem: a CIFAR-100 superclass (index or name), or one of --superclass-csv' },
    'superclass-csv': { value: 'FILE', help: 'class,superclass mapping used by --superclass' },
    epochs: { value: 'N', help: 'epochs of the search', default: '300' },
    alpha: { value: 'A', help: 'weight of the retained-weight ratio in the loss', default: "the paper's value for the model and data, else 1" },
    'lr-mask': { value: 'LR', help: 'Adam learning rate of the masks', default: "the paper's value for the model and data, else 0.05" },
    'lr-head': { value: 'LR', help: 'Adam learning rate of the new head', default: '0.1' },
    'batch-size': { value: 'N', help: 'training batch size', default: '64' },
    seed: { value: 'N', help: 'seed of the shuffling, augmentation and head', default: '0' },
    'early-stop': { value: 'N', help: 'stop after N epochs without a better model', default: '-1, off' },
    augment: { value: 'none|crop-flip', help: 'training augmentation', default: 'crop-flip for CIFAR and folders, none otherwise' },
    resize: { value: 'N|HxW', help: 'resize the samples: N the shorter side (aspect kept), HxW exactly (bilinear, antialiased when shrinking)' },
    channels: { value: 'C', help: 'repeat 1-channel data into C channels (gray to RGB)', default: "an imported graph's declared input channels" },
    device: { value: 'cpu|cuda', help: 'where the search runs', default: 'cpu' },
    granularity: { value: 'weight|kernel|channel', help: 'what one mask element covers: a weight (SeaM), a conv kernel or an output channel', default: 'weight' },
    out: { value: 'DIR', required: true, help: 'output folder' },
    resume: { help: 'continue the run whose checkpoint is in --out' },
    json: { help: 'print a summary object on the last line of stdout' },
    quiet: COMMON_OPTIONS.quiet,
  },
  example: 'seam reengineer --model examples/fmnist/fmnist_resnet20.pt --data fashion-mnist:examples/fmnist --target-class 0 --epochs 10 --out runs/c0',
} as const satisfies CommandSpec;

/** --granularity: what one mask element covers (default SeaM's `weight`). */
export function granularityFlag(v: string | undefined): Granularity {
  const g = v ?? 'weight';
  if (!(GRANULARITIES as readonly string[]).includes(g)) throw new UsageError(`--granularity must be one of ${GRANULARITIES.join(', ')}, got ${JSON.stringify(g)}`);
  return g as Granularity;
}

/** --device: 'cpu' (default) or 'cuda', which must be usable here (else the driver's reason). */
export function deviceFlag(v: string | undefined): 'cpu' | 'cuda' {
  const d = v ?? 'cpu';
  if (d !== 'cpu' && d !== 'cuda') throw new UsageError(`--device must be cpu or cuda, got ${JSON.stringify(d)}`);
  if (d === 'cuda') {
    const s = cudaStatus();
    if (!s.available) throw new Error(`--device cuda: CUDA is not available: ${s.reason}`);
  }
  return d;
}

export function buildProblem(data: OpenedData, v: Record<string, string | boolean | undefined>, seed: number): TargetProblem {
  const splits = { train: data.train, test: data.test };
  const given = ['target-class', 'target-classes', 'superclass'].filter((k) => v[k] !== undefined);
  if (given.length !== 1) throw new UsageError(`give exactly one of --target-class, --target-classes, --superclass (got ${given.length ? given.join(', ') : 'none'})`);
  if (v['target-class'] !== undefined) return binaryProblem(splits, String(v['target-class']), { seed });
  if (v['target-classes'] !== undefined) {
    const classes = String(v['target-classes']).split(',').map((s) => s.trim()).filter(Boolean);
    if (classes.length < 2) throw new UsageError('--target-classes needs at least two classes (use --target-class for one)');
    return classListProblem(splits, classes);
  }
  const sc = String(v.superclass);
  if (v['superclass-csv']) return csvSuperclassProblem(splits, { file: String(v['superclass-csv']) }, sc);
  if (data.spec.kind !== 'cifar100') throw new UsageError('--superclass needs CIFAR-100 data or a --superclass-csv mapping');
  return cifar100SuperclassProblem(splits, /^\d+$/.test(sc) ? Number(sc) : sc);
}

export type ReengineerFlags = Values<typeof REENGINEER>;

/** `seam reengineer`'s flags from argv (a queue job's, which never asks for --help). */
export function parseReengineerArgs(argv: string[]): ReengineerFlags {
  const parsed = parseCommand(REENGINEER, argv);
  if (!parsed) throw new UsageError('--help is not a job option');
  return parsed.values;
}

/** What `--json` prints (and what a queue job returns). */
export interface ReengineerSummary {
  original_accuracy: number; accuracy: number; retention: number; best_epoch: number; epochs_run: number;
  seconds: number; cancelled: boolean; flops_dense: number; flops_effective: number; granularity: Granularity; out: string;
}

export interface RunHooks {
  /** aborting stops the search within the running batch (between epochs: before the next one) */
  signal?: AbortSignal;
  onEvent?: (e: SearchEvent) => void;
  /** informational lines (model, problem, defaults); nothing is logged without it */
  log?: (line: string) => void;
  /** write masks.pt and the reports of a cancelled run (the CLI does; a queue job resumes instead) */
  writeWhenCancelled?: boolean;
}

/** Writes through a temporary file and a rename, so a reader (or a second writer of the same
 *  bytes on a shared filesystem) never sees a torn file. */
function writeAtomic(path: string, write: (tmp: string) => void): void {
  const tmp = join(dirname(path), `.${hostname()}-${process.pid}-${basename(path)}`);
  write(tmp);
  renameSync(tmp, path);
}

/** Everything `seam reengineer` does after parsing its flags: the search, with its checkpoint every
 *  epoch, log.jsonl, masks.pt, report.json and report.html in --out. */
export async function runReengineer(v: ReengineerFlags, hooks: RunHooks = {}): Promise<{ summary: ReengineerSummary; report: Report; cancelled: boolean }> {
  const log = hooks.log ?? ((): void => undefined);
  const seed = intFlag(v.seed, 'seed', 0);
  const device = deviceFlag(v.device);
  const granularity = granularityFlag(v.granularity);
  const loaded = loadModel(v.model, { arch: v.arch });
  log(`model: ${v.model} (${loaded.format}), architecture ${loaded.arch} (${loaded.reason})`);
  if (device === 'cuda') log(`device: ${cudaStatus().device} (cc ${cudaStatus().cc})`);
  const spec = dataSpecFromArgs({ data: v.data, mean: v.mean, std: v.std, augment: v.augment, resize: v.resize, channels: v.channels });
  const want = modelInput(loaded);
  channelsForModel(spec, want, log);
  const data = await openData(spec);
  const sample = checkDataFitsModel(data, want, log);
  log(`input: ${sample.join('x')} samples${spec.size ? ' (resized)' : ''}`);
  const problem = buildProblem(data, v, seed);
  log(`problem: ${problem.description}; ${problem.train.length} training and ${problem.test.length} test samples`);
  const defaults = paperDefaults(loaded.arch, data.spec.kind, problem.kind);
  const opts: SearchOptions = {
    epochs: intFlag(v.epochs, 'epochs', 300),
    batchSize: intFlag(v['batch-size'], 'batch-size', 64),
    alpha: numFlag(v.alpha, 'alpha', defaults.alpha),
    lrMask: numFlag(v['lr-mask'], 'lr-mask', defaults.lrMask),
    lrHead: numFlag(v['lr-head'], 'lr-head', defaults.lrHead),
    seed,
    earlyStop: intFlag(v['early-stop'], 'early-stop', -1),
    granularity,
  };
  if (v.alpha === undefined || v['lr-mask'] === undefined) log(`defaults from ${defaults.source}: lr_mask ${opts.lrMask}, alpha ${opts.alpha}`);
  const out = v.out;
  mkdirSync(out, { recursive: true });
  const logFile = join(out, 'log.jsonl');
  if (!v.resume) writeFileSync(logFile, '');
  const result = await reengineer(loaded.model, {
    problem,
    train: trainLoader(data, problem.train, { batchSize: opts.batchSize!, seed }),
    test: evalLoader(data, problem.test, { batchSize: 256 }),
  }, {
    ...opts,
    checkpoint: join(out, 'checkpoint.safetensors'),
    resume: Boolean(v.resume),
    signal: hooks.signal,
    device,
    onEvent: (e) => {
      hooks.onEvent?.(e);
      if (e.type === 'epoch') appendFileSync(logFile, `${JSON.stringify(e.log)}\n`);
    },
  });
  loaded.model.to('cpu'); // the masks are the model's parameters: this downloads them too
  result.head.to('cpu');
  const report: Report = {
    model: { file: v.model, arch: loaded.arch, format: loaded.format, parameters: [...loaded.stateDict.values()].reduce((a, t) => a + (t.dtype === 'f32' ? t.size : 0), 0) },
    problem: { description: problem.description, classes: problem.classes, trainSamples: problem.train.length, testSamples: problem.test.length },
    inputShape: sample,
    options: { ...opts, data: v.data, arch: loaded.arch, defaults: defaults.source, device, ...(v.resize ? { resize: v.resize } : {}), channels: data.channels },
    originalAccuracy: result.originalAccuracy, accuracy: result.accuracy, retention: result.retention,
    bestEpoch: result.bestEpoch, epochsRun: result.epochsRun, seconds: result.seconds, cancelled: result.cancelled,
    flops: (({ dense, effective }) => ({ dense, effective }))(countFlops(loaded.model, sample)),
    layers: result.layers, epochs: result.log, sampleShape: sample,
  };
  const summary: ReengineerSummary = {
    original_accuracy: result.originalAccuracy, accuracy: result.accuracy, retention: result.retention, best_epoch: result.bestEpoch,
    epochs_run: result.epochsRun, seconds: Math.round(result.seconds * 10) / 10, cancelled: result.cancelled,
    flops_dense: report.flops.dense, flops_effective: report.flops.effective, granularity, out,
  };
  if (result.cancelled && !hooks.writeWhenCancelled) return { summary, report, cancelled: true };
  // a resumed run's log.jsonl may lack the line of an epoch killed between its checkpoint and its log line
  writeAtomic(logFile, (tmp) => writeFileSync(tmp, result.log.map((l) => `${JSON.stringify(l)}\n`).join('')));
  writeAtomic(join(out, 'masks.pt'), (tmp) => saveMaskFile(tmp, result.masks, result.head, sample));
  if (granularity !== 'weight') {
    writeAtomic(compactMaskPath(join(out, 'masks.pt')), (tmp) => saveCompactMaskFile(tmp, result.masks, result.head, granularity));
  }
  writeAtomic(join(out, 'report.json'), (tmp) => writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`));
  writeAtomic(join(out, 'report.html'), (tmp) => writeFileSync(tmp, renderHtml(report)));
  return { summary, report, cancelled: result.cancelled };
}

export async function reengineerCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(REENGINEER, argv);
  if (!parsed) return 0;
  const v = parsed.values;
  const progress = new SearchProgress(process.stderr, Boolean(v.quiet));
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  let run;
  try {
    run = await runReengineer(v, {
      signal: controller.signal, writeWhenCancelled: true, onEvent: (e) => progress.handle(e),
      log: v.quiet ? undefined : (s) => process.stderr.write(`${s}\n`),
    });
  } finally {
    process.off('SIGINT', onSignal);
  }
  const { out, granularity } = run.summary;
  if (!v.quiet) {
    if (granularity !== 'weight') process.stderr.write(`\nretained per layer (${granularity} granularity):\n${layerTable(run.report.layers)}\n`);
    const compactNote = granularity === 'weight' ? '' : `, ${compactMaskPath('masks.pt')}`;
    process.stderr.write(`\n${summaryTable(run.report)}\nwrote ${join(out, 'masks.pt')}${compactNote}, log.jsonl, report.json, report.html\n`);
  }
  if (v.json) console.log(JSON.stringify(run.summary));
  return run.cancelled ? 130 : 0;
}
