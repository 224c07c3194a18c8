// Sparse weights for the native sparse conv: the CSR of a folded conv weight, packed for the
// lowering and tile the addon picks for a batch size (sparseConvChoose). Small maps run best with
// the batch in SIMD lanes when there are enough images, so an engine repacks (once per lowering)
// when it is bound to a batch that picks a different one.
import { native } from '../native.js';
import { convParams, type ConvGeometry } from './graph.js';

export interface SparseWeights {
  mode: number;
  tile: number;
  rowPtr: Int32Array;
  offs: Int32Array;
  vals: Float32Array;
}

/** The lowering a packing is for, in sparseConvChoose's encoding (mode * 256 + tile). */
export function loweringOf(sw: SparseWeights): number {
  return sw.mode * 256 + sw.tile;
}

/** mode * 256 + tile of the lowering the addon picks for this layer at this batch size. */
export function sparseLowering(g: ConvGeometry, batch: number): number {
  return native.sparseConvChoose(convParams(g, batch));
}

/** Packs a folded weight into the CSR the sparse kernel reads, with the lowering chosen for its shape and batch. */
export function packSparse(g: ConvGeometry, weight: Float32Array, batch = 1): SparseWeights {
  const code = sparseLowering(g, batch);
  const [mode, tile] = [code >> 8, code & 255];
  const nnz = native.sparseCountNonzero(weight);
  const sw: SparseWeights = { mode, tile, rowPtr: new Int32Array(g.o + 1), offs: new Int32Array(nnz), vals: new Float32Array(nnz) };
  native.sparseConvPack(weight, convParams(g, 1), mode, tile, sw.rowPtr, sw.offs, sw.vals);
  return sw;
}
