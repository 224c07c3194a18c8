// `seam run`: evaluates a model (eval mode) on the tensor named `input` of a safetensors file and
// writes `logits`, so a load can be checked against any other framework.
import { noGrad } from '../autograd/node.js';
import { readSafetensorsSync, writeSafetensorsSync } from '../io/safetensors.js';
import { loadModel } from '../models/load.js';
import { fromRaw, toRaw } from '../tensor/raw.js';
import { COMMON_OPTIONS, parseCommand, type CommandSpec } from './command.js';

export const RUN = {
  name: 'run',
  summary: 'the logits of a model (eval mode) on the tensor "input" of a safetensors file, written as "logits"',
  options: {
    model: COMMON_OPTIONS.model,
    arch: COMMON_OPTIONS.arch,
    input: { value: 'IN.safetensors', required: true, help: 'holds "input", a float tensor [N, C, H, W]' },
    output: { value: 'OUT.safetensors', required: true, help: 'receives "logits"' },
  },
  example: 'seam run --model model.pt --input in.safetensors --output out.safetensors',
} as const satisfies CommandSpec;

export async function runCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(RUN, argv);
  if (!parsed) return 0;
  const v = parsed.values;
  const loaded = loadModel(v.model, { arch: v.arch });
  const raw = readSafetensorsSync(v.input).tensors.get('input');
  if (!raw) throw new Error(`${v.input}: no tensor named "input"`);
  const x = fromRaw(raw, `${v.input}:input`);
  if (x.dtype !== 'f32' || x.ndim !== 4) throw new Error(`${v.input}: "input" must be a float tensor [N, C, H, W], got ${x.dtype} [${x.shape.join(', ')}]`);
  const logits = noGrad(() => loaded.model.forward(x));
  writeSafetensorsSync(v.output, { logits: toRaw(logits) }, { model: v.model, arch: loaded.arch });
  process.stderr.write(`${loaded.arch}: logits [${logits.shape.join(', ')}] written to ${v.output}\n`);
  return 0;
}
