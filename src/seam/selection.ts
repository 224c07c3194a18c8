// SeaM's model selection and early stopping (SEAM.md §3), kept exactly as the paper's code does
// it; pure state so it can be checkpointed and tested alone.

export interface SelectionState {
  /** original model's accuracy on the test problem */
  acc0: number;
  earlyStop: number;
  bestEpoch: number | null;
  bestAcc: number;
  bestRatio: number;
  fallbackEpoch: number | null;
  fallbackScore: number;
  armed: boolean;
  patience: number;
}

export function newSelection(acc0: number, earlyStop: number): SelectionState {
  return { acc0, earlyStop, bestEpoch: null, bestAcc: 0, bestRatio: 1, fallbackEpoch: null, fallbackScore: -Infinity, armed: false, patience: 0 };
}

export interface SelectionStep {
  /** this epoch's snapshot becomes the selected model */
  selected: boolean;
  /** this epoch's snapshot becomes the fallback (max acc - r) */
  fallback: boolean;
  /** early stopping fired: stop after this epoch */
  stop: boolean;
}

/** Feeds one epoch's test accuracy and ratio; mutates `s` and says what to keep. */
export function observeEpoch(s: SelectionState, epoch: number, acc: number, r: number): SelectionStep {
  const step: SelectionStep = { selected: false, fallback: false, stop: false };
  if (acc - r > s.fallbackScore) {
    s.fallbackScore = acc - r;
    s.fallbackEpoch = epoch;
    step.fallback = true;
  }
  if (acc >= s.acc0) {
    s.armed = true;
    if (Math.floor(r * 1000) < Math.floor(s.bestRatio * 1000)) s.patience = 0;
    else if (r > s.bestRatio) return step;
    else if (acc <= s.bestAcc) return step;
    s.bestRatio = r;
    s.bestAcc = acc;
    s.bestEpoch = epoch;
    step.selected = true;
  } else if (s.armed) {
    s.patience += 1;
    if (s.patience === s.earlyStop) step.stop = true;
  }
  return step;
}

/** The epoch whose model is the result: the selected one if any, else the fallback. */
export function chosenEpoch(s: SelectionState): number | null {
  return s.bestEpoch ?? s.fallbackEpoch;
}

/** Defect-inheritance variant (SEAM.md §3): stop once 1 - r >= threshold, else keep max acc - r with patience. */
export interface PruneSelectionState {
  threshold: number;
  earlyStop: number;
  bestEpoch: number | null;
  bestScore: number;
  patience: number;
}

export function newPruneSelection(threshold: number, earlyStop = 30): PruneSelectionState {
  return { threshold, earlyStop, bestEpoch: null, bestScore: -Infinity, patience: 0 };
}

export function observePruneEpoch(s: PruneSelectionState, epoch: number, acc: number, r: number): SelectionStep {
  if (1 - r >= s.threshold) {
    s.bestEpoch = epoch;
    s.bestScore = acc - r;
    return { selected: true, fallback: false, stop: true };
  }
  if (acc - r > s.bestScore) {
    s.bestScore = acc - r;
    s.bestEpoch = epoch;
    s.patience = 0;
    return { selected: true, fallback: false, stop: false };
  }
  s.patience += 1;
  return { selected: false, fallback: false, stop: s.earlyStop > 0 && s.patience >= s.earlyStop };
}
