// Parameter-free layers: activations, pooling, dropout, flatten, identity.
import { adaptiveAvgPool2d, avgPool2d, dropout, flatten, maxPool2d, relu } from '../ops/index.js';
import type { PoolOptions } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../util/rng.js';
import { defaultRng } from './init.js';
import { Module } from './module.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class MaxPool2d extends Module {
  constructor(readonly opts: PoolOptions) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.opts);
  }
  override describe(): string {
    return `MaxPool2d(k=${JSON.stringify(this.opts.kernelSize)}, s=${JSON.stringify(this.opts.stride ?? this.opts.kernelSize)})`;
  }
}

export class AvgPool2d extends Module {
  constructor(readonly opts: PoolOptions) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.opts);
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | [number, number] = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

export class Flatten extends Module {
  constructor(readonly startDim = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim);
  }
}

export class Dropout extends Module {
  /** The generator drawing the drop masks; reseed it for reproducible training. */
  rng: Rng;
  constructor(readonly p = 0.5) {
    super();
    this.rng = new Rng(defaultRng().nextU32());
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.rng);
  }
  override describe(): string {
    return `Dropout(p=${this.p})`;
  }
}
