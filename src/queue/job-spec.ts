// What a queue job is: one `seam reengineer` run, described by its flags. `seam queue add` turns a
// list of targets into jobs whose ids come from the model file's hash, the data spec, the target and
// the search options, so adding the same thing twice adds nothing.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { intFlag, numFlag, UsageError } from '../cli/args.js';
import { CIFAR100_SUPERCLASSES, CIFAR10_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES } from '../data/class-names.js';
import { dataSpecFromArgs, type DataSpec } from '../data/spec.js';

/** The data a job carries in Redis. */
export interface SeamJobData {
  /** `seam reengineer` flags, paths absolute; the worker adds --out <outRoot>/<job id>, --resume and --device */
  argv: string[];
  outRoot: string;
  /** e.g. "class 3", "classes 0,2", "superclass 14" */
  target: string;
  modelSha256: string;
}

/** The flags a target adds to `seam reengineer`, with a label and a file-name-safe id prefix. */
export interface Target {
  flags: string[];
  label: string;
  slug: string;
}

/** Search options passed through to `seam reengineer` unchanged: [flag, kind]. */
export const SEARCH_FLAGS = [
  ['epochs', 'int'], ['alpha', 'num'], ['lr-mask', 'num'], ['lr-head', 'num'], ['batch-size', 'int'], ['seed', 'int'], ['early-stop', 'int'],
] as const;

const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]+/g, '_');

export function classTarget(c: string): Target {
  return { flags: ['--target-class', c], label: `class ${c}`, slug: `class${safe(c)}` };
}

export function classSetTarget(classes: string[]): Target {
  if (classes.length < 2) throw new UsageError(`--target-sets: a set needs at least two classes, got "${classes.join(',')}" (use --targets for one)`);
  return { flags: ['--target-classes', classes.join(',')], label: `classes ${classes.join(',')}`, slug: `classes${safe(classes.join('-'))}` };
}

export function superclassTarget(sc: string, csv?: string): Target {
  return { flags: ['--superclass', sc, ...(csv ? ['--superclass-csv', csv] : [])], label: `superclass ${sc}`, slug: `superclass${safe(sc)}` };
}

const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);

/** Class count of a data set: known for the bundled kinds, read from the data otherwise. */
async function classCount(spec: DataSpec): Promise<number> {
  const known: Partial<Record<DataSpec['kind'], number>> = {
    cifar10: CIFAR10_CLASSES.length, mnist: MNIST_CLASSES.length, 'fashion-mnist': FASHION_MNIST_CLASSES.length, cifar100: 100,
  };
  if (known[spec.kind]) return known[spec.kind]!;
  const { openData } = await import('../data/spec.js');
  return (await openData(spec)).train.numClasses;
}

/** The targets named by exactly one of --targets, --each-class, --target-sets, --each-superclass. */
export async function expandTargets(v: Record<string, string | boolean | undefined>, spec: DataSpec, superclassCsv?: string): Promise<Target[]> {
  const given = ['targets', 'each-class', 'target-sets', 'each-superclass'].filter((k) => v[k] !== undefined && v[k] !== false);
  if (given.length !== 1) throw new UsageError(`give exactly one of --targets, --each-class, --target-sets, --each-superclass (got ${given.length ? given.join(', ') : 'none'})`);
  let targets: Target[];
  if (v.targets !== undefined) targets = list(String(v.targets)).map(classTarget);
  else if (v['each-class']) targets = Array.from({ length: await classCount(spec) }, (_, c) => classTarget(String(c)));
  else if (v['target-sets'] !== undefined) targets = String(v['target-sets']).split(';').map((s) => list(s)).filter((s) => s.length).map(classSetTarget);
  else if (superclassCsv) {
    const { readFileSync } = await import('node:fs');
    const { parseSuperclassCsv } = await import('../data/problems.js');
    targets = [...parseSuperclassCsv(readFileSync(superclassCsv, 'utf8'), superclassCsv).keys()].map((s) => superclassTarget(s, superclassCsv));
  } else {
    if (spec.kind !== 'cifar100') throw new UsageError('--each-superclass needs CIFAR-100 data or a --superclass-csv mapping');
    targets = CIFAR100_SUPERCLASSES.map((_, k) => superclassTarget(String(k)));
  }
  if (targets.length === 0) throw new UsageError(`--${given[0]} names no target`);
  const dup = targets.find((t, i) => targets.findIndex((u) => u.slug === t.slug) !== i);
  if (dup) throw new UsageError(`${dup.label} is given twice`);
  return targets;
}

export async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The `seam reengineer` flags shared by every target of one `queue add`, validated and with
 *  absolute paths (workers on other machines see the same shared paths), plus what identifies them. */
export function commonFlags(v: Record<string, string | boolean | undefined>): { argv: string[]; identity: Record<string, unknown>; spec: DataSpec } {
  if (!v.model || !v.data) throw new UsageError('missing --model or --data');
  const spec = dataSpecFromArgs({ data: String(v.data), mean: v.mean as string | undefined, std: v.std as string | undefined, augment: v.augment as string | undefined });
  spec.path = resolve(spec.path);
  const argv = ['--model', resolve(String(v.model)), '--data', `${spec.kind}:${spec.path}`];
  const options: Record<string, number | string> = {};
  for (const [flag, kind] of SEARCH_FLAGS) {
    const raw = v[flag] as string | undefined;
    if (raw === undefined) continue;
    options[flag] = kind === 'int' ? intFlag(raw, flag, 0) : numFlag(raw, flag, 0);
  }
  for (const flag of ['arch', 'mean', 'std', 'augment'] as const) if (v[flag] !== undefined) options[flag] = String(v[flag]);
  for (const [flag, value] of Object.entries(options)) argv.push(`--${flag}`, String(value));
  const identity = { data: { kind: spec.kind, path: spec.path, mean: spec.mean, std: spec.std, augment: spec.augment }, options };
  return { argv, identity, spec };
}

/** A job id: the target's slug and a hash of the model's bytes, the data, the target and the options. */
export function jobId(modelSha256: string, identity: Record<string, unknown>, target: Target): string {
  const key = JSON.stringify({ model: modelSha256, ...identity, target: target.flags });
  return `${target.slug}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}
