// Three full SeaM steps on the small masked CNN of ../shared/golden/seam_step.safetensors:
// logits, loss and ratio before each update; masks and head after it.
import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/backward.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential } from '../../src/nn/index.js';
import * as ops from '../../src/ops/index.js';
import { Adam } from '../../src/optim/index.js';
import { attachMasks, maskRatio, seamTrain } from '../../src/seam/masks.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { loadGolden, relErr, TOL_CONV_GEMM } from '../helpers/golden.js';

const g = loadGolden('seam_step.safetensors');

describe('SeaM step against PyTorch', () => {
  it('matches three steps of logits, loss, ratio, masks and head', () => {
    const conv = new Conv2d(3, 4, 3, { padding: 1, bias: false });
    const bn = new BatchNorm2d(4);
    const fc = new Linear(4, 10);
    const model = new Sequential(conv, bn, new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), fc);
    model.loadStateDict(new Map<string, Tensor>([
      ['0.weight', g.get('conv.weight')], ['1.weight', g.get('bn.weight')], ['1.bias', g.get('bn.bias')],
      ['1.running_mean', g.get('bn.running_mean')], ['1.running_var', g.get('bn.running_var')],
      ['1.num_batches_tracked', Tensor.ints([0], [])], ['5.weight', g.get('fc.weight')], ['5.bias', g.get('fc.bias')],
    ]));
    const head = new Linear(10, 2);
    head.loadStateDict(new Map([['weight', g.get('head.weight')], ['bias', g.get('head.bias')]]));
    const masks = attachMasks(model);
    expect(masks.map((m) => m.param)).toEqual(['0.weight', '5.weight', '5.bias']);
    seamTrain(model);
    expect(bn.training).toBe(false);
    const alpha = Number(g.metadata.alpha);
    const opt = new Adam([
      { params: masks.map((m) => m.mask), lr: Number(g.metadata.lr_mask) },
      { params: head.parameters(), lr: Number(g.metadata.lr_head) },
    ]);
    const x = g.get('x');
    const labels = g.get('labels');
    const check = (what: string, t: Tensor, key: string): void => {
      const err = relErr(t.data, g.get(key).data);
      expect(err, `${what} vs ${key}: relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
    };
    for (let step = 0; step < 3; step++) {
      opt.zeroGrad();
      const logits = head.forward(ops.relu(model.forward(x)));
      const ratio = maskRatio(masks);
      const loss = ops.add(ops.crossEntropy(logits, labels), ops.scale(ratio, alpha));
      check('logits', logits, `step${step}.logits`);
      check('loss', loss, `step${step}.loss`);
      check('ratio', ratio, `step${step}.ratio`);
      backward(loss);
      opt.step();
      check('conv mask', masks[0].mask, `step${step}.m_conv`);
      check('fc weight mask', masks[1].mask, `step${step}.m_fcw`);
      check('fc bias mask', masks[2].mask, `step${step}.m_fcb`);
      check('head weight', head.weight, `step${step}.head.weight`);
      check('head bias', head.bias!, `step${step}.head.bias`);
    }
  });
});
