// How the CPU backend's convolutions ran: the training step's forward and data gradient run over
// the kept weights only when a masked weight is sparse enough (native/kernels/sparse/train.rs).
// These report the share and let benchmarks and tests force either path.
import { native } from '../native.js';

export type SparseConvMode = 'auto' | 'off' | 'on';

const MODES: SparseConvMode[] = ['auto', 'off', 'on'];

/** Dense-equivalent FLOPs (2 x multiply-adds of the dense conv) that ran dense and sparse. */
export interface ConvFlops {
  forward: { dense: number; sparse: number };
  dataGrad: { dense: number; sparse: number };
}

/** FLOPs since the last reset (reset: start counting afresh after reading). */
export function convFlops(reset = false): ConvFlops {
  const j = JSON.parse(native.convSparseStats(reset)) as { forward: [number, number]; dataGrad: [number, number] };
  return { forward: { dense: j.forward[0], sparse: j.forward[1] }, dataGrad: { dense: j.dataGrad[0], sparse: j.dataGrad[1] } };
}

/** The share of forward FLOPs that ran sparse (0 when none ran). */
export function sparseForwardShare(f: ConvFlops): number {
  const total = f.forward.dense + f.forward.sparse;
  return total > 0 ? f.forward.sparse / total : 0;
}

/** 'auto' (by density and shape, the default; SEAM_SPARSE_TRAIN sets the start value), 'off' or
 *  'on' (sparse whenever the shape allows); returns the previous mode. */
export function setSparseConvMode(mode: SparseConvMode): SparseConvMode {
  const m = MODES.indexOf(mode);
  if (m < 0) throw new Error(`setSparseConvMode: mode must be auto, off or on, got ${JSON.stringify(mode)}`);
  return MODES[native.convSparseMode(m)];
}

export interface ConvCall {
  pass: 'forward' | 'dataGrad';
  /** [N, C, H, W, O, KH, KW, SH, SW, PH, PW, DH, DW, G] */
  params: number[];
  /** kept fraction of the weights (1 when the call was not counted) */
  density: number;
  sparse: boolean;
}

/** The conv calls traced since the last call; tracing continues iff `enable`. */
export function convTrace(enable: boolean): ConvCall[] {
  return (JSON.parse(native.convTrace(enable)) as [ConvCall['pass'], number[], number, boolean][])
    .map(([pass, params, density, sparse]) => ({ pass, params, density, sparse }));
}
