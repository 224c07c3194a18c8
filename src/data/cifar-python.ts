/**
 * CIFAR's python layout: pickled dicts holding a numpy uint8 array `data` (N x 3072, CHW per row) and
 * label lists. Needs the restricted unpickler of src/io (branch `io`), not merged yet.
 */
import type { CifarVariant } from './cifar.js';

export interface ParsedBatch {
  pixels: Uint8Array;
  fine: Int32Array;
  coarse?: Int32Array;
}

export function parseCifarPythonBatch(_bytes: Uint8Array, variant: CifarVariant, what: string): ParsedBatch {
  throw new Error(`${what}: the ${variant} python (pickle) layout is not supported in this build; use the binary layout`);
}

export function parseCifarPythonMeta(_bytes: Uint8Array, what: string): { fine: string[]; coarse?: string[] } {
  throw new Error(`${what}: the CIFAR python (pickle) layout is not supported in this build; use the binary layout`);
}
