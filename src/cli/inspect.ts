// `seam inspect FILE`: format, architecture guess, parameter count and a table of layers.
import { loadModel } from '../models/load.js';
import { Conv2d, Linear, BatchNorm2d } from '../nn/index.js';
import { COMMON_OPTIONS, parseCommand, type CommandSpec } from './command.js';

export const INSPECT = {
  name: 'inspect',
  summary: "a model file's format, guessed architecture, parameter count and layer table",
  positional: 'FILE',
  options: {
    arch: COMMON_OPTIONS.arch,
    json: { help: 'print one JSON object instead of the table' },
  },
  example: 'seam inspect model.pt',
} as const satisfies CommandSpec;

export async function inspectCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(INSPECT, argv);
  if (!parsed) return 0;
  const { values: v, positionals: [file] } = parsed;
  const loaded = loadModel(file, { arch: v.arch });
  const rows: { name: string; layer: string; params: number }[] = [];
  let total = 0;
  for (const [name, m] of loaded.model.namedModules()) {
    if (!(m instanceof Conv2d || m instanceof Linear || m instanceof BatchNorm2d)) continue;
    const params = m.parameters().reduce((a, p) => a + p.size, 0);
    total += params;
    rows.push({ name, layer: m.describe(), params });
  }
  if (v.json) {
    console.log(JSON.stringify({ file, format: loaded.format, arch: loaded.arch, reason: loaded.reason, options: loaded.options, parameters: total, layers: rows }));
    return 0;
  }
  console.log(`file:         ${file}`);
  console.log(`format:       ${loaded.format}`);
  console.log(`architecture: ${loaded.arch} (${loaded.reason})`);
  console.log(`options:      ${JSON.stringify(loaded.options)}`);
  console.log(`parameters:   ${total.toLocaleString('en')}`);
  const w = Math.max(...rows.map((r) => r.name.length), 5);
  const wl = Math.max(...rows.map((r) => r.layer.length), 5);
  console.log(`\n${'layer'.padEnd(w)}  ${'module'.padEnd(wl)}  ${'params'.padStart(10)}`);
  for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.layer.padEnd(wl)}  ${r.params.toLocaleString('en').padStart(10)}`);
  return 0;
}
