// Which BatchNorm2d directly follows each Conv2d, for channel masks (a masked conv channel is gated
// at that BatchNorm so that it outputs exactly 0). Found by one probe forward (eval mode, no
// gradients) that watches Conv2d.forward, whose epilogue names its BatchNorm, and the BatchNorm2d
// entry points, which a separate call feeds the conv's output tensor. Works for the zoo models and
// for graph models alike, since all of them run their layers through these entry points.
import { noGrad } from '../autograd/node.js';
import { BatchNorm2d, Conv2d, type Module } from '../nn/index.js';
import { Tensor } from '../tensor/tensor.js';

export interface GateBn {
  path: string;
  module: BatchNorm2d;
}

type Fn = (...args: unknown[]) => unknown;

/** conv -> the BatchNorm2d its output feeds directly. */
export function convBatchNormPairs(model: Module, sampleShape: readonly number[] | undefined): Map<Conv2d, GateBn> {
  if (!sampleShape) throw new Error('channel masks need the shape of one input sample to find the BatchNorm after each conv');
  const paths = new Map<Module, string>();
  for (const [p, m] of model.namedModules()) paths.set(m, p);
  const pairs = new Map<Conv2d, GateBn>();
  const outputsOf = new Map<Tensor, Conv2d>();
  const pair = (conv: Conv2d, bn: BatchNorm2d): void => {
    if (pairs.has(conv)) return;
    if (bn.numFeatures !== conv.outChannels) throw new Error(`channel masks: ${paths.get(bn)} has ${bn.numFeatures} features after ${paths.get(conv)} with ${conv.outChannels} outputs`);
    pairs.set(conv, { path: paths.get(bn) ?? '', module: bn });
  };
  const hooked: [Module, string][] = [];
  const hook = (m: Module, name: string, wrap: (orig: Fn) => Fn): void => {
    const target = m as unknown as Record<string, Fn>;
    const orig = target[name].bind(m);
    target[name] = wrap(orig);
    hooked.push([m, name]);
  };
  for (const [, m] of model.namedModules()) {
    if (m instanceof Conv2d) {
      hook(m, 'forward', (orig) => (x, epilogue) => {
        const bn = (epilogue as { bn?: BatchNorm2d } | undefined)?.bn;
        if (bn) pair(m, bn);
        const y = orig(x, epilogue) as Tensor;
        if (!bn) outputsOf.set(y, m);
        return y;
      });
    } else if (m instanceof BatchNorm2d) {
      for (const name of ['forward', 'forwardRelu']) {
        hook(m, name, (orig) => (x, ...rest) => {
          const conv = outputsOf.get(x as Tensor);
          if (conv) pair(conv, m);
          return orig(x, ...rest);
        });
      }
    }
  }
  const flags = model.trainingFlags();
  try {
    model.eval();
    noGrad(() => model.forward(Tensor.zeros([1, ...sampleShape]).moveTo_(model.device())));
  } finally {
    for (const [m, name] of hooked) delete (m as unknown as Record<string, unknown>)[name];
    model.restoreTrainingFlags(flags);
  }
  return pairs;
}
