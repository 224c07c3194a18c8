// Every torchvision classification family, exported by PyTorch (TorchScript exporter) with random
// weights and random BatchNorm statistics (scripts/onnx/families.py), imported here: our logits
// match PyTorch's (relative error < 1e-4). The committed fixtures are reduced widths; the real
// sizes run when `python scripts/onnx/families.py --full` has written them (else the test says so).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/node.js';
import { loadModel } from '../../src/models/load.js';
import { relErr, TOL_CONV_GEMM } from '../helpers/golden.js';
import { FAMILIES } from './family-list.js';
import { FAMILIES_DIR, FAMILIES_FULL_DIR, familyManifest, formulaInput, readPb } from './fixtures.js';

function checkFamily(dir: string, stem: string, input: number[]): void {
  const { model } = loadModel(join(dir, `${stem}.onnx`));
  const ref = readPb(join(dir, `${stem}.logits.pb`));
  const logits = noGrad(() => model.forward(formulaInput(input)));
  expect(logits.shape).toEqual(ref.shape);
  expect(Math.max(...ref.f32.map(Math.abs)), 'the reference logits are not trivially zero').toBeGreaterThan(1e-4);
  const err = relErr(logits.f32, ref.f32);
  expect(err, `${stem}: relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
}

describe('torchvision families exported to ONNX (reduced widths)', () => {
  const manifest = familyManifest(FAMILIES_DIR);
  it('the fixtures cover every family', () => {
    expect(manifest, `${FAMILIES_DIR}/manifest.json is missing: run python scripts/onnx/families.py`).not.toBeNull();
    expect(new Set(Object.values(manifest!).map((e) => e.family))).toEqual(new Set(FAMILIES));
  });
  for (const [stem, entry] of Object.entries(manifest ?? {})) {
    it(`${stem} (opset ${entry.opset}, ${entry.parameters} parameters): our logits are PyTorch's`, () => checkFamily(FAMILIES_DIR, stem, entry.input));
  }
});

describe('torchvision families at their real sizes', () => {
  const manifest = familyManifest(FAMILIES_FULL_DIR);
  const missing = `(skipped: ${FAMILIES_FULL_DIR} has no manifest.json; run python scripts/onnx/families.py --full)`;
  if (!manifest) it.skip(`full-size families ${missing}`, () => undefined);
  for (const [stem, entry] of Object.entries(manifest ?? {})) {
    const present = existsSync(join(FAMILIES_FULL_DIR, `${stem}.onnx`));
    it.skipIf(!present)(`${stem} (${entry.parameters} parameters, input ${entry.input.join('x')})${present ? '' : ` (skipped: ${stem}.onnx missing)`}`,
      () => checkFamily(FAMILIES_FULL_DIR, stem, entry.input), 600_000);
  }
});
