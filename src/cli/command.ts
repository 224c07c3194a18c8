// One description per command: its options (value placeholder, default, help) and an example. The
// parser, `--help` / `-h`, the "missing --x" check and the "did you mean" of an unknown option all
// come from it, so the help can never disagree with what the command accepts.
import { parseArgs } from 'node:util';
import { UsageError } from './args.js';

export interface OptionSpec {
  /** the value's placeholder (`N`, `FILE`...); absent for a flag */
  value?: string;
  help: string;
  /** what happens when the option is not given (shown as "default: ...") */
  default?: string;
  required?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** the positional argument's placeholder, for commands that take one (`seam inspect FILE`) */
  positional?: string;
  options: Record<string, OptionSpec>;
  example: string;
}

type Opts<S extends CommandSpec> = S['options'];
/** Options several commands share. */
export const COMMON_OPTIONS = {
  model: { value: 'FILE', required: true, help: 'the model: PyTorch .pt/.pth, safetensors or ONNX' },
  arch: { value: 'NAME', help: 'the zoo architecture', default: "guessed from the state_dict's keys and shapes" },
  masks: { value: 'FILE', required: true, help: 'the mask file `seam reengineer` wrote (DIR/masks.pt)' },
  quiet: { help: 'no progress on stderr' },
} as const satisfies Record<string, OptionSpec>;

/** The parsed options: strings for options with a value (always present when required), booleans for flags. */
export type Values<S extends CommandSpec> = { [K in keyof Opts<S> as Opts<S>[K] extends { required: true } ? K : never]: string } & {
  [K in keyof Opts<S> as Opts<S>[K] extends { required: true } ? never : K]?: Opts<S>[K] extends { value: string } ? string : boolean;
};

export interface Parsed<S extends CommandSpec> {
  values: Values<S>;
  positionals: string[];
}

const helpHint = (spec: CommandSpec): string => `(seam ${spec.name} --help lists the options)`;

/** Parses argv for the command; prints the help and returns null on --help / -h. Usage errors name
 *  what was wrong (the caller prefixes the command). */
export function parseCommand<S extends CommandSpec>(spec: S, argv: string[]): Parsed<S> | null {
  const end = argv.indexOf('--');
  if ((end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(helpText(spec));
    return null;
  }
  const options = Object.fromEntries(Object.entries(spec.options).map(([k, o]) => [k, { type: o.value ? 'string' : 'boolean' } as const]));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: spec.positional !== undefined });
  } catch (err) {
    throw usageError(spec, err as Error & { code?: string });
  }
  if (spec.positional && parsed.positionals.length !== 1) {
    throw new UsageError(`expected one ${spec.positional}, got ${parsed.positionals.length ? parsed.positionals.map((p) => `"${p}"`).join(' ') : 'none'} ${helpHint(spec)}`);
  }
  const missing = Object.entries(spec.options).filter(([k, o]) => o.required && parsed.values[k] === undefined).map(([k]) => `--${k}`);
  if (missing.length) {
    const all = Object.entries(spec.options).filter(([, o]) => o.required).map(([k]) => `--${k}`);
    throw new UsageError(`missing ${all.length > 1 ? `${all.slice(0, -1).join(', ')} or ${all.at(-1)}` : all[0]} (${missing.join(', ')} not given) ${helpHint(spec)}`);
  }
  return { values: parsed.values as Values<S>, positionals: parsed.positionals };
}

function usageError(spec: CommandSpec, err: Error & { code?: string }): Error {
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const given = /'(-[^']*)'/.exec(err.message)?.[1] ?? '?';
    const near = nearest(given.replace(/^-+/, ''), Object.keys(spec.options));
    return new UsageError(`unknown option ${given}${near ? `; did you mean --${near}?` : ''} ${helpHint(spec)}`);
  }
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']*)'/.exec(err.message)?.[1] ?? '?';
    return new UsageError(`unexpected argument "${arg}": seam ${spec.name} takes only options ${helpHint(spec)}`);
  }
  if (err.code?.startsWith('ERR_PARSE_ARGS')) return new UsageError(`${err.message.split('. ')[0]} ${helpHint(spec)}`);
  return err;
}

/** The candidate closest to `word` by edit distance (a prefix counts as close), or null when none is near. */
export function nearest(word: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 1 : editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** One line: `seam NAME --required X ... [options]`. */
export function synopsis(spec: CommandSpec): string {
  const req = Object.entries(spec.options).filter(([, o]) => o.required).map(([k, o]) => `--${k} ${o.value}`);
  return ['seam', spec.name, spec.positional, ...req, Object.values(spec.options).some((o) => !o.required) ? '[options]' : ''].filter(Boolean).join(' ');
}

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([k, o]) => {
    const notes = [o.required ? 'required' : '', o.default !== undefined ? `default: ${o.default}` : ''].filter(Boolean).join('; ');
    return [`--${k}${o.value ? ` ${o.value}` : ''}`, notes ? `${o.help} (${notes})` : o.help];
  });
  rows.push(['-h, --help', 'this help']);
  const w = Math.min(Math.max(...rows.map(([f]) => f!.length)) + 2, 34);
  const lines = rows.map(([f, h]) => (f!.length + 2 > w ? `  ${f}\n  ${''.padEnd(w)}${h}` : `  ${f!.padEnd(w)}${h}`));
  return `seam ${spec.name}: ${spec.summary}\n\nusage: ${synopsis(spec)}\n\noptions:\n${lines.join('\n')}\n\nexample:\n  ${spec.example}\n`;
}
