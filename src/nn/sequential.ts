// Sequential container with children named "0", "1", ... as in PyTorch. Its layers run in units
// (layerUnits): a Conv2d, Linear or BatchNorm2d with the BatchNorm2d and ReLU that follow it, so
// that eval-mode conv + BatchNorm + ReLU runs as one fused op. The inference planner
// (src/infer/graph.ts) walks the same units.
import { relu } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { BatchNorm2d } from './batchnorm.js';
import { Conv2d } from './conv.js';
import { ReLU } from './layers.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/** One layer with the BatchNorm2d (after a Conv2d) and the ReLU that follow it. */
export interface LayerUnit {
  /** index of `layer` in the Sequential */
  index: number;
  layer: Module;
  bn: BatchNorm2d | null;
  relu: boolean;
}

// Exact classes only: a subclass may override forward(), which a fused unit would bypass.
const is = <T extends Module>(m: Module | undefined, cls: new (...args: never[]) => T): m is T => m?.constructor === cls;

/** Groups layers into units: Conv2d [BatchNorm2d] [ReLU], Linear [ReLU], BatchNorm2d [ReLU], or any one layer. */
export function layerUnits(layers: readonly Module[]): LayerUnit[] {
  const units: LayerUnit[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    const unit: LayerUnit = { index: i, layer, bn: null, relu: false };
    if (is(layer, Conv2d) && is(layers[i + 1], BatchNorm2d)) unit.bn = layers[++i] as BatchNorm2d;
    if ((is(layer, Conv2d) || is(layer, Linear) || is(layer, BatchNorm2d)) && is(layers[i + 1], ReLU)) {
      unit.relu = true;
      i++;
    }
    units.push(unit);
  }
  return units;
}

function runUnit(u: LayerUnit, x: Tensor): Tensor {
  const { layer, bn } = u;
  if (!u.relu) return bn ? bn.forward(layer.forward(x)) : layer.forward(x);
  if (bn) return (layer as Conv2d).forward(x, { bn });
  if (layer instanceof BatchNorm2d) return layer.forwardRelu(x);
  return relu(layer.forward(x));
}

export class Sequential extends Module {
  /** the layers in order (replacing one in place is allowed: units are found on every call) */
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }

  forward(x: Tensor): Tensor {
    for (const u of layerUnits(this.layers)) x = runUnit(u, x);
    return x;
  }
}
