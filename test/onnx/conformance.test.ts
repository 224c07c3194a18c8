// ONNX's own single-node conformance cases for the ops of image classifiers (2-D spatial cases;
// written by scripts/onnx/conformance.py from the onnx package's case generator): each case runs
// through the library API (OnnxGraphModel.run with every graph input fed) and either matches the
// expected outputs within the case's tolerance (rtol 1e-3, atol 1e-7) or is refused with an error
// that names the node. At least 90% must pass; a wrong answer fails the test whatever the rate.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/node.js';
import { parseOnnxTensor, readOnnx } from '../../src/io/onnx.js';
import { OnnxGraphModel } from '../../src/models/onnx-graph.js';
import { graphValue } from '../../src/models/onnx-op-util.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { CONFORMANCE_DIR } from './fixtures.js';

interface CaseInfo {
  op: string;
  opset: number;
  tensor_data: boolean;
  rtol: number;
  atol: number;
}

type Outcome = { kind: 'pass' } | { kind: 'refused'; why: string } | { kind: 'wrong'; why: string };

function tensorFile(path: string): Tensor {
  const { tensor } = parseOnnxTensor(readFileSync(path), path);
  return graphValue(tensor, path);
}

/** got against want; the shape may also be the one the model declares for the output when the
 *  file's differs only in layout (test_matmul_1d_1d declares a scalar and stores [1]). */
function compare(name: string, got: Tensor, want: Tensor, declared: readonly (number | string)[], rtol: number, atol: number): string | null {
  const asDeclared = got.size === want.size && declared.join(',') === got.shape.join(',');
  if (got.shape.join(',') !== want.shape.join(',') && !asDeclared) return `${name}: shape [${got.shape}] instead of [${want.shape}]`;
  const g = got.hostValues(name);
  const w = want.hostValues(name);
  for (let i = 0; i < w.length; i++) {
    const ok = Number.isNaN(w[i]) ? Number.isNaN(g[i]) : g[i] === w[i] || Math.abs(g[i] - w[i]) <= atol + rtol * Math.abs(w[i]);
    if (!ok) return `${name}[${i}] = ${g[i]}, expected ${w[i]}`;
  }
  return null;
}

function runCase(dir: string, info: CaseInfo): Outcome {
  let model: OnnxGraphModel;
  let outs: Map<string, Tensor>;
  const graph = readOnnx(join(dir, 'model.onnx'));
  try {
    if (!info.tensor_data) throw new Error('the case feeds sequence or optional values, not tensors');
    const feeds = new Map(graph.inputs.map((v, j) => [v.name, tensorFile(join(dir, `input_${j}.pb`))]));
    model = new OnnxGraphModel(graph, { multipleInputs: true });
    outs = noGrad(() => model.run(feeds));
  } catch (e) {
    return { kind: 'refused', why: (e as Error).message };
  }
  for (const [j, v] of graph.outputs.entries()) {
    let want: Tensor;
    try {
      want = tensorFile(join(dir, `output_${j}.pb`));
    } catch (e) {
      return { kind: 'refused', why: `expected output: ${(e as Error).message}` };
    }
    const diff = compare(v.name, outs.get(v.name)!, want, v.shape, info.rtol, info.atol);
    if (diff) return { kind: 'wrong', why: diff };
  }
  return { kind: 'pass' };
}

const indexPath = join(CONFORMANCE_DIR, 'index.json');
const present = existsSync(indexPath);

describe('ONNX node conformance cases', () => {
  it.skipIf(!present)(`pass at least 90%, every other case refused clearly${present ? '' : ` (skipped: ${indexPath} is missing; run python scripts/onnx/conformance.py)`}`, () => {
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as Record<string, CaseInfo>;
    const names = readdirSync(CONFORMANCE_DIR).filter((n) => index[n]);
    expect(names.length).toBe(Object.keys(index).length);
    const results = names.map((name) => ({ name, ...index[name], ...runCase(join(CONFORMANCE_DIR, name), index[name]) }));
    const wrong = results.filter((r) => r.kind === 'wrong');
    const refused = results.filter((r) => r.kind === 'refused') as { name: string; why: string }[];
    const passed = results.filter((r) => r.kind === 'pass').length;
    const summary = `${passed} of ${results.length} pass (${((100 * passed) / results.length).toFixed(1)}%); refused:\n${refused.map((r) => `  ${r.name}: ${r.why}`).join('\n')}`;
    if (process.env['SEAM_CONFORMANCE_REPORT']) console.log(summary);
    expect(wrong.map((r) => `${r.name}: ${(r as { why: string }).why}`), 'wrong answers').toEqual([]);
    // a refusal names the op or the node, or says which input or feature is missing
    for (const r of refused) expect(r.why, r.name).toMatch(/onnx graph|node "|not supported|unsupported|sequence or optional/);
    expect(passed / results.length, summary).toBeGreaterThanOrEqual(0.9);
  });
});
