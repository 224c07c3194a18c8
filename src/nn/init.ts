// Default parameter initialisation (PyTorch's kaiming-uniform(a = sqrt(5)) for conv and linear),
// drawn from one seeded generator so model construction is reproducible.
import { Tensor, type Shape } from '../tensor/tensor.js';
import { Rng } from '../util/rng.js';

let initRng = new Rng(0);
let skipInit = false;

/** Builds modules with zero-filled parameters instead of random ones, for when a state_dict will
 *  overwrite them anyway (drawing millions of random numbers is most of a large model's build time). */
export function withoutInit<T>(build: () => T): T {
  const prev = skipInit;
  skipInit = true;
  try {
    return build();
  } finally {
    skipInit = prev;
  }
}

/** Reseeds the generator used for default parameter initialisation (like torch.manual_seed). */
export function manualSeed(seed: number): void {
  initRng = new Rng(seed);
}

export function defaultRng(): Rng {
  return initRng;
}

/** U(-1/sqrt(fanIn), 1/sqrt(fanIn)): PyTorch's default for conv/linear weights and biases. */
export function uniformFanIn(shape: Shape, fanIn: number): Tensor {
  if (skipInit) return Tensor.zeros(shape);
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return Tensor.uniform(shape, initRng, -bound, bound);
}
