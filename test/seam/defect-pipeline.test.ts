// The defect-inheritance pipeline end to end on tiny synthetic data: a model pretrained on one
// synthetic dataset, reused on another with a different class count; standard fine-tuning vs
// re-engineer-then-fine-tune, both attacked with feature-space PGD on the pretrained model.
import { describe, expect, it } from 'vitest';
import { Sequential } from '../../src/nn/index.js';
import { runDefectPipeline, type DefectEvent } from '../../src/seam/defect.js';
import { reengineerForDefect } from '../../src/seam/defect-search.js';
import { finetune } from '../../src/seam/finetune.js';
import { findOutputLayer, replaceOutputLayer } from '../../src/seam/output-layer.js';
import { loaders, tinyCnn } from '../helpers/defect-fixtures.js';

async function pretrainedFactory(): Promise<() => Sequential> {
  const src = loaders({ numClasses: 5, train: 160, test: 40, seed: 21 });
  const m = tinyCnn(5, 3);
  await finetune(m, { train: src.train, val: src.test }, { epochs: 4, lrHidden: 0.05, lrOutput: 0.05, momentum: 0.9, earlyStop: 0 });
  const sd = m.stateDict();
  return () => {
    const c = tinyCnn(5, 99);
    c.loadStateDict(sd);
    c.eval();
    return c;
  };
}

describe('defect-inheritance pipeline', () => {
  it('runs end to end and reports accuracy and DIR for both ways of reuse', async () => {
    const pretrained = await pretrainedFactory();
    const tgt = loaders({ numClasses: 3, train: 96, test: 48, seed: 22 });
    const events: DefectEvent[] = [];
    const r = await runDefectPipeline(pretrained, { numClasses: 3, train: tgt.train, val: tgt.test, test: tgt.test, attack: tgt.test }, {
      outputLayer: { epochs: 2 },
      search: { epochs: 4, lrMask: 0.3, alpha: 1, pruneThreshold: 0.9, earlyStop: 30 },
      finetune: { epochs: 2, earlyStop: 30 },
      keepPruned: true,
      attack: { samples: 20, steps: 3, eps: 0.5, stepSize: 0.2, clip: [-2, 2] },
      onEvent: (e) => events.push(e),
    });
    const stages = events.filter((e) => e.type === 'stage').map((e) => (e as { stage: string }).stage);
    expect(stages).toEqual(['standard', 'output-layer', 'reengineer', 'seam-finetune', 'attack']);
    for (const o of [r.standard, r.seam, r.outputLayerOnly]) {
      expect(o.accuracy).toBeGreaterThanOrEqual(0);
      expect(o.accuracy).toBeLessThanOrEqual(1);
      expect(o.dir.samples).toBe(20);
      expect(o.dir.rate).toBeGreaterThanOrEqual(0);
      expect(o.dir.rate).toBeLessThanOrEqual(1);
    }
    expect(r.attack.samples).toBe(20);
    expect(r.standard.finetune.epochsRun).toBe(2);
    expect(r.seam.outputLayer.epochsRun).toBe(2);
    expect(r.seam.search.epochsRun).toBeGreaterThan(0);
    expect(r.seam.retention).toBeLessThan(1);
    // the output layer for the new dataset has 3 outputs; the pretrained one had 5
    for (const m of Object.values(r.models)) expect(findOutputLayer(m).layer.outFeatures).toBe(3);
    // keepPruned: every weight masked out in step 2 is still 0 after step 3
    const sd = r.models.seam.stateDict();
    let zeroed = 0;
    for (const mask of r.seam.search.masks) {
      const w = sd.get(mask.param)!.f32;
      mask.mask.f32.forEach((v, i) => {
        if (v <= 0) {
          zeroed++;
          expect(w[i]).toBe(0);
        }
      });
    }
    expect(zeroed).toBeGreaterThan(0);
    // the standard model's hidden weights moved away from the pretrained ones
    const pre = pretrained().stateDict();
    const std = r.models.standard.stateDict();
    expect(Array.from(std.get('0.weight')!.f32)).not.toEqual(Array.from(pre.get('0.weight')!.f32));
  });

  it('stops re-engineering once the prune threshold is reached', async () => {
    const pretrained = await pretrainedFactory();
    const tgt = loaders({ numClasses: 3, train: 96, test: 48, seed: 23 });
    const m = pretrained();
    replaceOutputLayer(m, 3, 0);
    const r = await reengineerForDefect(m, { train: tgt.train, val: tgt.test }, { epochs: 50, lrMask: 0.5, alpha: 5, pruneThreshold: 0.05 });
    expect(r.reachedThreshold).toBe(true);
    expect(r.epochsRun).toBeLessThan(50);
    expect(r.bestEpoch).toBe(r.epochsRun - 1);
    expect(1 - r.retention).toBeGreaterThanOrEqual(0.05);
  });
});
