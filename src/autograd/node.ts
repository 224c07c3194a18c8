// The autograd tape: every differentiable op that runs with gradients enabled records a node
// on its output; backward() walks the nodes in reverse topological order.
import type { BackwardFn, Tensor } from '../tensor/tensor.js';

export type { BackwardFn, GradNode } from '../tensor/tensor.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with gradient recording off (like torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Whether `record` will attach a node for these inputs (absent ones skipped): an op whose saved
 *  buffers no backward will read may skip allocating them. */
export function willRecord(inputs: readonly (Tensor | null | undefined)[]): boolean {
  return gradEnabled && inputs.some((t) => t?.requiresGrad);
}

/** Attaches a node to `out` when gradients are on and any input requires them. */
export function record(op: string, out: Tensor, inputs: Tensor[], backward: BackwardFn): Tensor {
  if (!willRecord(inputs)) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, needs: inputs.map((t) => t.requiresGrad), backward };
  return out;
}
