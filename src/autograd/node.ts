// The autograd tape: every differentiable op that runs with gradients enabled records a node
// on its output; backward() walks the nodes in reverse topological order.
import { Tensor } from '../tensor/tensor.js';

/** Computes the gradients of an op's inputs from its output gradient. `needs[i]` says whether
 *  input i wants a gradient; entries for inputs that don't may be null. */
export type BackwardFn = (gradOut: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

export interface GradNode {
  op: string;
  inputs: Tensor[];
  needs: boolean[];
  backward: BackwardFn;
}

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

/** Attaches a node to `out` when gradients are on and any input requires them. */
export function record(op: string, out: Tensor, inputs: Tensor[], backward: BackwardFn): Tensor {
  if (!gradEnabled) return out;
  const needs = inputs.map((t) => t.requiresGrad);
  if (!needs.some(Boolean)) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, needs, backward };
  return out;
}
