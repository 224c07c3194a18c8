// Ops without CUDA kernels (sigmoid, clip, broadcastTo, concat: used by some imported ONNX graphs)
// run on device tensors through the host: inputs are copied to the CPU, the CPU op runs with its
// own gradient, and the result (and, in backward, the input gradients) are copied back. Correct
// but slow; the ResNet/VGG zoo models never take this path.
import { backward } from '../autograd/backward.js';
import { isGradEnabled, record } from '../autograd/node.js';
import type { Tensor } from '../tensor/tensor.js';
import { expectCuda } from './device.js';

export function viaHost(op: string, inputs: Tensor[], run: (hostInputs: Tensor[]) => Tensor): Tensor {
  expectCuda(op, Object.fromEntries(inputs.map((t, i) => [`input ${i}`, t])));
  const grad = isGradEnabled();
  const host = inputs.map((t) => {
    const c = t.detach().cpu();
    if (grad && t.requiresGrad) c.setRequiresGrad(true);
    return c;
  });
  const outHost = run(host);
  const out = outHost.detach().to(inputs[0].device);
  if (!outHost.requiresGrad) return out;
  return record(op, out, inputs, (g, needs) => {
    backward(outHost, g.cpu());
    return host.map((c, i) => (needs[i] && c.grad ? c.grad.to(inputs[i].device) : null));
  });
}
