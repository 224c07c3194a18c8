// Fine-tuning: early stopping on validation accuracy picks the best epoch and restores its weights
// (BatchNorm statistics included); parameter groups get their own learning rates; output-layer-only
// training leaves the rest of the model untouched.
import { describe, expect, it } from 'vitest';
import { Linear, Sequential } from '../../src/nn/index.js';
import { accuracyOf, finetune, newEarlyStop, observeFinetuneEpoch } from '../../src/seam/finetune.js';
import { findOutputLayer, replaceOutputLayer } from '../../src/seam/output-layer.js';
import { loaders, tinyCnn } from '../helpers/defect-fixtures.js';

describe('early stopping', () => {
  it('keeps the first epoch with the best accuracy and stops after `patience` epochs without a better one', () => {
    const s = newEarlyStop(2);
    const seen = [0.5, 0.7, 0.6, 0.7, 0.9].map((a, e) => observeFinetuneEpoch(s, e, a));
    expect(seen.map((r) => r.best)).toEqual([true, true, false, false, true]);
    expect(seen.map((r) => r.stop)).toEqual([false, false, false, true, false]);
    expect(s.bestEpoch).toBe(4);
    const never = newEarlyStop(0);
    for (let e = 0; e < 50; e++) expect(observeFinetuneEpoch(never, e, 0.1).stop).toBe(false);
  });

  it('stops a run that does not improve after patience epochs, keeping epoch 0', async () => {
    const d = loaders({ numClasses: 3, train: 64, test: 48, seed: 3 });
    const m = tinyCnn(3, 4);
    // lr 0 on a model without BatchNorm updates: every epoch scores the same
    const noBn = new Sequential(...m.layers.filter((l) => l.constructor.name !== 'BatchNorm2d'));
    const r = await finetune(noBn, { train: d.train, val: d.test }, { epochs: 20, lrHidden: 0, lrOutput: 0, earlyStop: 3 });
    expect(r.bestEpoch).toBe(0);
    expect(r.epochsRun).toBe(4);
    expect(r.stoppedEarly).toBe(true);
    expect(new Set(r.log.map((l) => l.accuracy)).size).toBe(1);
  });

  it('restores the best epoch of a real run, BatchNorm statistics included', async () => {
    const d = loaders({ numClasses: 4, train: 128, test: 64, seed: 5 });
    const m = tinyCnn(4, 6);
    const events: string[] = [];
    // a large output learning rate makes validation accuracy move around between epochs
    const r = await finetune(m, { train: d.train, val: d.test }, {
      epochs: 8, lrHidden: 0.05, lrOutput: 0.5, momentum: 0.9, weightDecay: 1e-4, earlyStop: 0, onEvent: (e) => events.push(e.type),
    });
    const accs = r.log.map((l) => l.accuracy);
    expect(r.bestEpoch).toBe(accs.indexOf(Math.max(...accs)));
    expect(r.bestAccuracy).toBe(Math.max(...accs));
    expect(r.log.filter((l) => l.best).at(-1)!.epoch).toBe(r.bestEpoch);
    expect(await accuracyOf(m, d.test)).toBe(r.bestAccuracy);
    expect(events[0]).toBe('start');
    expect(events.filter((e) => e === 'epoch').length).toBe(8);
    expect(events.filter((e) => e === 'batch').length).toBe(8 * d.train.length);
  });
});

describe('parameter groups', () => {
  it('trains the output layer alone on a frozen model when asked', async () => {
    const d = loaders({ numClasses: 3, train: 96, test: 48, seed: 9 });
    const m = tinyCnn(5, 7);
    const source = loaders({ numClasses: 5, train: 160, test: 40, seed: 10 });
    await finetune(m, { train: source.train, val: source.test }, { epochs: 4, lrHidden: 0.05, lrOutput: 0.05, momentum: 0.9, earlyStop: 0 });
    const fresh = replaceOutputLayer(m, 3, 0);
    expect(findOutputLayer(m).layer).toBe(fresh);
    expect(m.layers.at(-1)).toBe(fresh);
    const hidden = m.parameters().filter((p) => !fresh.parameters().includes(p));
    const buffers = [...m.namedBuffers()].map(([, t]) => t.data.slice());
    const before = hidden.map((p) => p.f32.slice());
    const w0 = fresh.weight.f32.slice();
    const r = await finetune(m, { train: d.train, val: d.test }, { epochs: 5, lrOutput: 0.1, momentum: 0.9, trainable: 'output', earlyStop: 0 });
    hidden.forEach((p, i) => expect(Array.from(p.f32)).toEqual(Array.from(before[i]!)));
    [...m.namedBuffers()].forEach(([, t], i) => expect(Array.from(t.data)).toEqual(Array.from(buffers[i]!)));
    expect(Array.from(fresh.weight.f32)).not.toEqual(Array.from(w0));
    expect(r.bestAccuracy).toBeGreaterThan(r.initialAccuracy);
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  it('uses a separate learning rate for hidden layers (0 freezes them)', async () => {
    const d = loaders({ numClasses: 3, train: 64, test: 32, seed: 2 });
    const m = tinyCnn(3, 8);
    const out = findOutputLayer(m).layer as Linear;
    const conv = m.layers[0]!.parameters()[0]!;
    const c0 = conv.f32.slice();
    const w0 = out.weight.f32.slice();
    await finetune(m, { train: d.train, val: d.test }, { epochs: 1, lrHidden: 0, lrOutput: 0.1, weightDecay: 0, earlyStop: 0 });
    expect(Array.from(conv.f32)).toEqual(Array.from(c0));
    expect(Array.from(out.weight.f32)).not.toEqual(Array.from(w0));
  });
});
