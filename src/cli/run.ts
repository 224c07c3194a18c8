// `seam run`: evaluates a model (eval mode) on the tensor named `input` of a safetensors file and
// writes `logits`, so a load can be checked against any other framework.
import { parseArgs } from 'node:util';
import { noGrad } from '../autograd/node.js';
import { readSafetensorsSync, writeSafetensorsSync } from '../io/safetensors.js';
import { loadModel } from '../models/load.js';
import { fromRaw, toRaw } from '../tensor/raw.js';
import { UsageError } from './args.js';

export async function runCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({ args: argv, options: { model: { type: 'string' }, arch: { type: 'string' }, input: { type: 'string' }, output: { type: 'string' } } });
  if (!v.model || !v.input || !v.output) throw new UsageError('usage: seam run --model FILE [--arch NAME] --input IN.safetensors --output OUT.safetensors');
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
