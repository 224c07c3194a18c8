// The planner's choices (per-layer kernel from density and shape, forced kernels, groups) and the
// errors on bad input: unsupported modules, wrong shapes, bad buffers handed to the native kernels.
import { describe, expect, it } from 'vitest';
import { chooseKernel, packSparse, planModel } from '../../src/infer/index.js';
import { convParams, type ConvGeometry } from '../../src/infer/graph.js';
import { cifarResNet20 } from '../../src/models/cifar-resnet.js';
import { native } from '../../src/native.js';
import { AvgPool2d, Conv2d, manualSeed, ReLU, Sequential } from '../../src/nn/index.js';
import { attachMasks } from '../../src/seam/masks.js';

const geom = (o: Partial<ConvGeometry> = {}): ConvGeometry => ({
  c: 64, h: 16, w: 16, o: 64, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, groups: 1, oh: 16, ow: 16, ...o,
});

describe('kernel choice', () => {
  it('sparse below the crossover density, dense above', () => {
    expect(chooseKernel(geom(), 0.1).kernel).toBe('sparse');
    expect(chooseKernel(geom(), 0.9).kernel).toBe('dense');
    expect(chooseKernel(geom(), 0.1, { kernel: 'dense' }).kernel).toBe('dense');
    expect(chooseKernel(geom(), 0.9, { kernel: 'sparse' }).kernel).toBe('sparse');
    expect(chooseKernel(geom(), 0.2, { sparseBelow: 0.1 }).kernel).toBe('dense');
    expect(chooseKernel(geom({ groups: 2 }), 0.01).kernel).toBe('dense');
    expect(chooseKernel(geom(), 0.1).reason).toMatch(/density 0\.100 </);
  });

  it('plans ResNet20: dense when unmasked, sparse at 10% (but the downsamples), BN folded into every conv', () => {
    manualSeed(0);
    const model = cifarResNet20(10);
    const dense = planModel(model, [3, 32, 32]);
    expect(dense.layers.map((l) => l.kernel)).toEqual(new Array(dense.layers.length).fill('dense'));
    expect(dense.layers.length).toBe(19 + 2 + 1); // 19 convs + 2 downsample convs + fc
    for (const m of attachMasks(model)) m.mask.f32.forEach((_, i, a) => (a[i] = i % 10 === 0 ? 1 : -1));
    const sparse = planModel(model, [1, 3, 32, 32]);
    // every conv sparse but the 1x1 stride-2 downsamples (dense is faster there, sparseCrossover)
    const down = (l: (typeof sparse.layers)[number]): boolean => l.step.name.endsWith('downsample.0');
    expect(sparse.layers.filter(down).map((l) => l.kernel)).toEqual(['dense', 'dense']);
    expect(sparse.layers.filter((l) => !down(l)).every((l) => l.kernel === 'sparse' && l.sparse !== null)).toBe(true);
    expect(sparse.layers.filter((l) => l.step.residual !== null).length).toBe(9);
    expect(sparse.outputSize).toBe(10);
  });

  it('chooses direct lowering for maps >= 8x8 (strided ones through phase planes) and panels for tiny maps', () => {
    const w = new Float32Array(64 * 64 * 9).map((_, i) => (i % 7 === 0 ? 1 : 0));
    expect(packSparse(geom(), w).mode).toBe(0);
    expect(packSparse(geom({ sh: 2, sw: 2, oh: 8, ow: 8 }), w).mode).toBe(0);
    expect(packSparse(geom({ h: 2, w: 2, oh: 2, ow: 2 }), w).mode).toBe(1);
  });
});

describe('bad input', () => {
  it('rejects unsupported modules and shapes', () => {
    expect(() => planModel(new Sequential(new AvgPool2d({ kernelSize: 2 })), [3, 8, 8])).toThrow(/not supported/);
    expect(() => planModel(new Sequential(new ReLU()), [3, 8, 8])).toThrow(/does not follow/);
    expect(() => planModel(new Sequential(new Conv2d(4, 8, 3)), [3, 8, 8])).toThrow(/expects 4 input channels/);
    expect(() => planModel(cifarResNet20(10), [3, 32])).toThrow(/sampleShape/);
  });

  it('engine.run checks the input', () => {
    const engine = planModel(new Sequential(new Conv2d(3, 4, 3, { padding: 1 }), new ReLU()), [3, 8, 8]);
    expect(() => engine.run(new Float32Array(10), 1)).toThrow(/expected batch \* C\*H\*W/);
    expect(() => engine.run(new Float32Array(192), 0)).toThrow(/positive integer/);
    expect(() => engine.run([1, 2] as unknown as Float32Array, 1)).toThrow(/Float32Array/);
    expect(engine.run(new Float32Array(2 * 192), 2).length).toBe(2 * 4 * 64);
  });

  it('the native sparse conv validates every buffer and the CSR', () => {
    const g = geom({ c: 4, o: 3, h: 6, w: 6, oh: 6, ow: 6 });
    const w = new Float32Array(3 * 4 * 9).map((_, i) => (i % 5 === 0 ? 0.5 : 0));
    const sp = packSparse(g, w);
    const p = convParams(g, 2);
    const x = new Float32Array(2 * 4 * 36);
    const y = new Float32Array(2 * 3 * 36);
    const call = (o: { x?: Float32Array; y?: Float32Array; rowPtr?: Int32Array; offs?: Int32Array; bias?: Float32Array | null; res?: Float32Array | null; tile?: number }) =>
      native.sparseConvForward(o.x ?? x, o.rowPtr ?? sp.rowPtr, o.offs ?? sp.offs, sp.vals, o.bias ?? null, o.res ?? null, o.y ?? y, p, sp.mode, o.tile ?? sp.tile, true);
    expect(() => call({})).not.toThrow();
    expect(() => call({ x: new Float32Array(5) })).toThrow(/sparseConvForward: x has 5/);
    expect(() => call({ y: new Float32Array(5) })).toThrow(/sparseConvForward/);
    expect(() => call({ rowPtr: new Int32Array(2) })).toThrow(/rowPtr has 2 elements/);
    expect(() => call({ offs: sp.offs.map(() => 1e6) })).toThrow(/offsets must lie in/);
    expect(() => call({ offs: sp.offs.map(() => -1) })).toThrow(/offsets must lie in/);
    expect(() => call({ bias: new Float32Array(2) })).toThrow(/bias has 2 elements/);
    expect(() => call({ res: new Float32Array(3) })).toThrow(/residual has 3 elements/);
    expect(() => call({ tile: 24 })).toThrow(/multiple of 16/);
    expect(() => call({ y: x })).toThrow(/alias/);
    expect(() => native.sparseConvPack(w, p, 0, 32, new Int32Array(4), new Int32Array(1), new Float32Array(1))).toThrow(/offs has 1 elements/);
    expect(() => native.denseConvFused(x, new Float32Array(3), null, null, y, p, false)).toThrow(/denseConvFused/);
  });
});
