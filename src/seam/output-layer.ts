// The model's output layer (its last Linear, e.g. ResNet's `fc` or VGG's `classifier.6`): find it,
// replace it with a fresh Linear for a new dataset, and run the model without it (the penultimate
// features) — what indirect reuse and the defect-inheritance attack need.
import { Identity, Linear, Module, Sequential, manualSeed } from '../nn/index.js';
import type { Tensor } from '../tensor/tensor.js';

export interface OutputLayer {
  /** module path, e.g. "fc" or "classifier.6" */
  path: string;
  parent: Module;
  /** the child's name in its parent */
  name: string;
  layer: Linear;
}

/** The last Linear of the model in module order (depth first, as namedModules() visits them). */
export function findOutputLayer(model: Module): OutputLayer {
  let found = null as OutputLayer | null;
  const visit = (m: Module, path: string): void => {
    for (const [name, child] of m.namedChildren()) {
      const p = path ? `${path}.${name}` : name;
      if (child instanceof Linear) found = { path: p, parent: m, name, layer: child };
      visit(child, p);
    }
  };
  visit(model, '');
  if (!found) throw new Error('the model has no Linear layer to use as its output layer');
  return found;
}

/** Puts `m` in place of the child `name` of `parent`: in its child table, in a Sequential's layer
 *  list, and in any field of the parent that held the old child (e.g. `this.fc`). */
export function setChild(parent: Module, name: string, m: Module): void {
  const old = parent.child(name);
  parent.registerModule(name, m);
  if (parent instanceof Sequential) {
    const i = parent.layers.indexOf(old as Module);
    if (i >= 0) parent.layers[i] = m;
  }
  const fields = parent as unknown as Record<string, unknown>;
  for (const k of Object.keys(fields)) if (old && fields[k] === old) fields[k] = m;
}

/** Replaces the output layer with a fresh Linear(in, numClasses) initialised from `seed`
 *  (PyTorch's default init); returns the new layer. */
export function replaceOutputLayer(model: Module, numClasses: number, seed = 0): Linear {
  const out = findOutputLayer(model);
  manualSeed(seed);
  const fresh = new Linear(out.layer.inFeatures, numClasses, out.layer.bias !== null);
  setChild(out.parent, out.name, fresh);
  const counted = model as unknown as { numClasses?: number };
  if (typeof counted.numClasses === 'number') counted.numClasses = numClasses;
  return fresh;
}

/** The model without its output layer: f(x) = the input of the last Linear. The layer is swapped
 *  for an Identity for the duration of each call, so this works for any architecture of the zoo. */
export function penultimate(model: Module): (x: Tensor) => Tensor {
  const out = findOutputLayer(model);
  const id = new Identity();
  return (x) => {
    setChild(out.parent, out.name, id);
    try {
      return model.forward(x);
    } finally {
      setChild(out.parent, out.name, out.layer);
    }
  };
}
