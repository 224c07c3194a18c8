// Shared by the ONNX tests: where the generated fixtures live, reading ONNX TensorProto files
// (.pb) as engine tensors, and the formula input the family fixtures were exported with.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOnnxTensor } from '../../src/io/onnx.js';
import { graphValue } from '../../src/models/onnx-op-util.js';
import { Tensor } from '../../src/tensor/tensor.js';

export const ONNX_FIXTURES = fileURLToPath(new URL('../fixtures/onnx', import.meta.url));
export const FAMILIES_DIR = join(ONNX_FIXTURES, 'families');
export const FAMILIES_FULL_DIR = process.env['SEAM_ONNX_FAMILIES_FULL'] ?? join(ONNX_FIXTURES, 'families-full');
export const CONFORMANCE_DIR = join(ONNX_FIXTURES, 'conformance');

export interface FamilyEntry {
  family: string;
  opset: number;
  input: number[];
  parameters: number;
}

/** The manifest.json of a families folder (name -> entry), or null when the folder has none. */
export function familyManifest(dir: string): Record<string, FamilyEntry> | null {
  const path = join(dir, 'manifest.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, FamilyEntry>) : null;
}

/** A .pb TensorProto as a graph value (float32, or int32 for integer types). */
export function readPb(path: string): Tensor {
  const { tensor } = parseOnnxTensor(readFileSync(path), path);
  return graphValue(tensor, path);
}

/** scripts/onnx/families.py's input: x[i] = ((i * 7919) % 251) / 125.5 - 1 over the flat tensor (exact in both). */
export function formulaInput(shape: readonly number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i * 7919) % 251) / 125.5 - 1;
  return new Tensor(data, shape);
}
