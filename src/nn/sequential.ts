// Sequential container with children named "0", "1", ... as in PyTorch.
import { Tensor } from '../tensor/tensor.js';
import { BatchNorm2d } from './batchnorm.js';
import { Conv2d } from './conv.js';
import { ReLU } from './layers.js';
import { Module } from './module.js';

export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }
  forward(x: Tensor): Tensor {
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      const m = layers[i];
      // Conv2d, BatchNorm2d, ReLU (or BatchNorm2d, ReLU): one fused op (same values and gradients).
      // Exact classes only: a subclass may override forward().
      if (m.constructor === Conv2d && layers[i + 1]?.constructor === BatchNorm2d && layers[i + 2]?.constructor === ReLU) {
        x = (m as Conv2d).forwardBnRelu(x, layers[i + 1] as BatchNorm2d);
        i += 2;
      } else if (m.constructor === BatchNorm2d && layers[i + 1]?.constructor === ReLU) {
        x = (m as BatchNorm2d).forwardRelu(x);
        i++;
      } else {
        x = m.forward(x);
      }
    }
    return x;
  }
}
