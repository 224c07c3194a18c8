// Shapes of what the search reports: one line per epoch, per-layer retention, the final result.

export interface EpochLog {
  epoch: number;
  phase: 'head' | 'both';
  trainLoss: number;
  trainAccuracy: number;
  /** test accuracy of the re-engineered model on the problem */
  accuracy: number;
  /** retained fraction of mask elements after the epoch */
  ratio: number;
  /** share of the epoch's training forward FLOPs that ran over the kept weights only (CPU;
   *  absent from logs written before it was recorded) */
  sparseForward?: number;
  seconds: number;
  selected: boolean;
}

export interface LayerRetention {
  param: string;
  shape: number[];
  kept: number;
  total: number;
  retention: number;
}

export interface FlopsReport {
  dense: number;
  effective: number;
}
