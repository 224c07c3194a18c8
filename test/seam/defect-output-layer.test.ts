// The output layer of the zoo's architectures: found, replaced for a new class count, and removed
// for the attack's features (the model without its fc).
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/node.js';
import { CifarResNet } from '../../src/models/cifar-resnet.js';
import { CifarVGG } from '../../src/models/cifar-vgg.js';
import { findOutputLayer, penultimate, replaceOutputLayer } from '../../src/seam/output-layer.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';

describe('output layer', () => {
  it('is fc for a CIFAR ResNet; without it the model computes features()', () => {
    const m = new CifarResNet({ depth: 20, numClasses: 10, inChannels: 1 }).eval();
    expect(findOutputLayer(m).path).toBe('fc');
    const x = Tensor.randn([2, 1, 8, 8], new Rng(1));
    const f = noGrad(() => penultimate(m)(x));
    expect(f.shape).toEqual([2, 64]);
    expect(Array.from(f.f32)).toEqual(Array.from(noGrad(() => m.features(x)).f32));
    expect(noGrad(() => m.forward(x)).shape).toEqual([2, 10]); // restored after the call
    const fresh = replaceOutputLayer(m, 7, 0);
    expect(m.fc).toBe(fresh);
    expect(m.numClasses).toBe(7);
    expect(m.stateDict().get('fc.weight')!.shape).toEqual([7, 64]);
    expect(noGrad(() => m.forward(x)).shape).toEqual([2, 7]);
  });

  it('is classifier.6 for a CIFAR VGG', () => {
    const m = new CifarVGG({ depth: 11, numClasses: 10 }).eval();
    expect(findOutputLayer(m).path).toBe('classifier.6');
    replaceOutputLayer(m, 3, 0);
    expect(m.classifier.layers[6]).toBe(findOutputLayer(m).layer);
    const x = Tensor.randn([1, 3, 32, 32], new Rng(2));
    expect(noGrad(() => m.forward(x)).shape).toEqual([1, 3]);
    expect(noGrad(() => penultimate(m)(x)).shape).toEqual([1, 512]);
  });

  it('is initialised reproducibly from its seed', () => {
    const a = replaceOutputLayer(new CifarResNet({ depth: 20 }), 5, 4);
    const b = replaceOutputLayer(new CifarResNet({ depth: 20 }), 5, 4);
    expect(Array.from(a.weight.f32)).toEqual(Array.from(b.weight.f32));
  });
});
