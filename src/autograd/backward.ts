// Reverse-mode differentiation: topological order from the root, seed gradient, then one
// reverse sweep that accumulates (+=) gradients into every tensor that requires them.
// Intermediate gradients made during the sweep are freed once consumed: device tensors are
// disposed (each leaf owns its gradient tensor, kept out of deviceScope); large CPU buffers go
// back to uninit for reuse (a leaf's .grad never does).
import { recycle, trackHandedOut } from '../backend/cpu-pool.js';
import { backendOf } from '../backend/dispatch.js';
import { keepTensor, trackCreated } from '../backend/storage.js';
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
  const be = backendOf('backward (gradient sum)', { a, b });
  const out = be.uninit(a.shape);
  be.k.add(be.f(a), be.f(b), be.f(out));
  return out;
}

/** Backpropagates from `root`. Without `grad`, root must hold a single element (seed 1). */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) throw new Error('backward: the tensor does not require gradients (nothing to differentiate)');
  if (!grad) {
    if (root.size !== 1) throw new Error(`backward: an explicit gradient is needed for a non-scalar output ${shapeStr(root.shape)}`);
    grad = backendOf('backward', { output: root }).full(root.shape, 1);
  } else if (grad.size !== root.size) {
    throw new Error(`backward: gradient of shape ${shapeStr(grad.shape)} for output of shape ${shapeStr(root.shape)}`);
  } else if (grad.device !== root.device) {
    throw new Error(`backward: gradient on ${grad.device} for an output on ${root.device}`);
  }
  const sweepWith = (early: EarlyFree): void => sweep(root, grad, early);
  if (root.device === 'cpu') trackHandedOut((out) => sweepWith(cpuEarlyFree(out)));
  else trackCreated((created) => sweepWith(deviceEarlyFree(created)));
}

/** Which gradients the sweep frees as soon as no grads entry holds them, and how: `key` names
 *  what is counted (null: never freed early), `free` releases it, `escape` marks a gradient that
 *  became a leaf's .grad (the user's: never freed). */
interface EarlyFree {
  key(g: Tensor): unknown;
  free(g: Tensor, key: unknown): void;
  escape(g: Tensor): void;
}

/** Device: tensors counted one by one; those made during the sweep are disposed. */
function deviceEarlyFree(created: Set<Tensor>): EarlyFree {
  return { key: (g) => g, free: (g) => void (created.has(g) && g.dispose()), escape: () => {} };
}

/** CPU: the large buffers uninit handed out during the sweep, counted by ArrayBuffer (views
 *  share one); a buffer no entry holds goes back to uninit unless it became a leaf's .grad. */
function cpuEarlyFree(handedOut: Set<ArrayBufferLike>): EarlyFree {
  const escaped = new Set<ArrayBufferLike>();
  return {
    key: (g) => (g.device === 'cpu' && handedOut.has(g.data.buffer) ? g.data.buffer : null),
    free: (_, key) => void (escaped.has(key as ArrayBufferLike) || recycle(key as ArrayBufferLike)),
    escape: (g) => void escaped.add(g.data.buffer),
  };
}

function sweep(root: Tensor, seed: Tensor, early: EarlyFree): void {
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const holders = new Map<unknown, number>(); // how many grads entries hold each counted gradient
  const hold = (g: Tensor): void => {
    const k = early.key(g);
    if (k !== null) holders.set(k, (holders.get(k) ?? 0) + 1);
  };
  const drop = (g: Tensor): void => {
    const k = early.key(g);
    if (k === null) return;
    const n = (holders.get(k) ?? 1) - 1;
    if (n > 0) holders.set(k, n);
    else {
      holders.delete(k);
      early.free(g, k);
    }
  };
  hold(seed);
  const order = topologicalOrder(root);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = grads.get(t);
    if (!g) continue;
    const node = t.node;
    if (!node) {
      // A leaf: accumulate into .grad as PyTorch does. On a device the leaf gets its own tensor.
      if (g.device !== 'cpu') {
        const prev = t.grad;
        t.grad = keepTensor(prev ? sumGrads(prev, g) : new Tensor(g.liveStorage('backward'), g.shape));
        prev?.dispose();
      } else {
        t.grad = keepTensor(t.grad ? sumGrads(t.grad, g) : g); // the leaf's: outlives a recycling scope
        early.escape(t.grad);
      }
      grads.delete(t);
      drop(g);
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
      if (gi.device !== input.device) {
        throw new Error(`backward of ${node.op}: gradient on ${gi.device} for an input on ${input.device}`);
      }
      const prev = grads.get(input);
      if (prev) {
        grads.set(input, sumGrads(prev, gi));
        hold(grads.get(input)!);
        hold(gi);
        drop(prev);
        drop(gi);
      } else {
        grads.set(input, gi);
        hold(gi);
      }
    });
    drop(g);
  }
}
