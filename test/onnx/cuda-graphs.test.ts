// Imported graphs on the emulated CUDA driver (test/cuda/emu/fake_libcuda.cpp): the kernels the ONNX
// ops added run on the host behind the device (onHost, with null and int32 buffers), constants move
// to the device on first use, and a masked forward and backward on 'cuda' matches the CPU's
// (logits and every mask gradient). Needs g++ and an addon with CUDA kernels (skipped otherwise).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NVCC_FAILED, emulatedDriverGate } from '../helpers/cuda-emulated.js';
import { compileEmu, gxxVersion } from '../helpers/gxx.js';
import { expectClose } from '../helpers/cuda-parity.js';

const gxx = gxxVersion();
if (gxx) process.env.SEAM_LIBCUDA = compileEmu('libcuda-emu-onnx.so', ['fake_libcuda.cpp'], ['-shared', '-fPIC']);
const { cudaStatus } = await import('../../src/backend/cuda-native.js');
const { backward } = await import('../../src/autograd/backward.js');
const { loadModel } = await import('../../src/models/load.js');
const ops = await import('../../src/ops/index.js');
const { attachMasks } = await import('../../src/seam/masks.js');
const { Tensor } = await import('../../src/tensor/tensor.js');
const { FAMILIES_DIR, familyManifest, formulaInput } = await import('./fixtures.js');

const status = gxx ? cudaStatus() : null;
const gate = emulatedDriverGate(gxx, status);
const why = gate.skip || (!gate.nvccError && !status?.available ? status?.reason : '');

type Device = 'cpu' | 'cuda';

function step(stem: string, device: Device, input: number[]): { logits: Float32Array; grads: Float32Array[] } {
  const { model } = loadModel(join(FAMILIES_DIR, `${stem}.onnx`));
  model.to(device);
  const masks = attachMasks(model);
  const x = formulaInput(input).to(device);
  const labels = Tensor.ints(Array.from({ length: input[0] }, (_, i) => i % model.numClasses)).to(device);
  // a ReduceMax and a softmax on top of the logits reach the axis kernels and their int32 buffers
  const logits = model.forward(x);
  const extra = ops.reduce('max', ops.softmax(logits, -1, true), [1], false);
  backward(ops.add(ops.crossEntropy(logits, labels), ops.scale(ops.mean(extra), 0.1)));
  return { logits: logits.cpu().f32.slice(), grads: masks.map((m) => m.mask.grad!.cpu().f32.slice()) };
}

describe.skipIf(Boolean(why))(why ? `imported graphs on the emulated driver (skipped: ${why})` : 'imported graphs on the emulated CUDA driver', () => {
  it('runs on the stand-in driver', () => {
    expect(gate.nvccError, NVCC_FAILED).toBe('');
    expect(status?.device).toMatch(/emulation/);
  });
  const manifest = familyManifest(FAMILIES_DIR) ?? {};
  for (const stem of ['vit_b_16', 'mobilenet_v3_small', 'shufflenet_v2']) {
    it(`${stem}: masked forward and backward on cuda match the cpu`, () => {
      const input = [2, ...(manifest[stem]?.input ?? [2, 3, 64, 64]).slice(1)];
      const cpu = step(stem, 'cpu', input);
      const cuda = step(stem, 'cuda', input);
      expectClose(`${stem} logits`, cuda.logits, cpu.logits, 1e-5, 1e-4);
      expect(cuda.grads.length).toBe(cpu.grads.length);
      cpu.grads.forEach((g, i) => expectClose(`${stem} mask gradient ${i}`, cuda.grads[i], g, 1e-6, 1e-3));
    }, 300_000);
  }
});
