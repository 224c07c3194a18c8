// Reverse-mode differentiation: topological order from the root, seed gradient, then one
// reverse sweep that accumulates (+=) gradients into every tensor that requires them.
import { native } from '../native.js';
import { uninit } from '../ops/util.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: deep networks would overflow a recursive one.
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const input of t.node?.inputs ?? []) {
      if (input.requiresGrad && !seen.has(input)) stack.push([input, false]);
    }
  }
  return order;
}

function sumGrads(a: Tensor, b: Tensor): Tensor {
  const out = uninit(a.shape);
  native.add(a.f32, b.f32, out.f32);
  return out;
}

/** Backpropagates from `root`. Without `grad`, root must hold a single element (seed 1). */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) throw new Error('backward: the tensor does not require gradients (nothing to differentiate)');
  if (!grad) {
    if (root.size !== 1) throw new Error(`backward: an explicit gradient is needed for a non-scalar output ${shapeStr(root.shape)}`);
    grad = Tensor.ones(root.shape);
  } else if (grad.size !== root.size) {
    throw new Error(`backward: gradient of shape ${shapeStr(grad.shape)} for output of shape ${shapeStr(root.shape)}`);
  }
  const grads = new Map<Tensor, Tensor>([[root, grad]]);
  const order = topologicalOrder(root);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = grads.get(t);
    if (!g) continue;
    const node = t.node;
    if (!node) {
      // A leaf: accumulate into .grad as PyTorch does.
      t.grad = t.grad ? sumGrads(t.grad, g) : g;
      continue;
    }
    grads.delete(t); // intermediate gradients are freed as soon as they are consumed
    const inputGrads = node.backward(g, node.needs);
    node.inputs.forEach((input, k) => {
      const gi = inputGrads[k];
      if (!node.needs[k] || !gi) return;
      if (gi.size !== input.size) {
        throw new Error(`backward of ${node.op}: gradient ${shapeStr(gi.shape)} for input ${shapeStr(input.shape)}`);
      }
      const prev = grads.get(input);
      grads.set(input, prev ? sumGrads(prev, gi) : gi);
    });
  }
}
