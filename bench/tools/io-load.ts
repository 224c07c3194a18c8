/**
 * Load-time benchmark for the io layer: prints JSON with the median of several reads of the golden
 * checkpoints. `load_vgg16_pt_ms` is the 61 MB CIFAR VGG16-BN .pt read into a state_dict (CRC checked).
 * Compare with bench/tools/io_load_torch.py (torch.load + load_state_dict) on the same machine.
 * Run: node --import tsx bench/tools/io-load.ts
 */
import { join } from 'node:path';
import { readStateDictSync } from '../../src/io/index.js';
import { SHARED } from '../workloads.js';

const dir = join(SHARED, 'golden');

function median(fn: () => void, runs = 7): number {
  fn(); // warm-up (JIT, page cache)
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return Math.round(t[runs >> 1]! * 10) / 10;
}

const out = {
  load_vgg16_pt_ms: median(() => readStateDictSync(join(dir, 'cifar100_vgg16_bn.pt'))),
  load_vgg16_pt_nocrc_ms: median(() => readStateDictSync(join(dir, 'cifar100_vgg16_bn.pt'), { verifyCrc: false })),
  load_resnet18_f16_pt_ms: median(() => readStateDictSync(join(dir, 'resnet18_10cls.pt'))),
  load_resnet20_legacy_pt_ms: median(() => readStateDictSync(join(dir, 'cifar10_resnet20.legacy.pt'))),
  load_resnet20_safetensors_ms: median(() => readStateDictSync(join(dir, 'cifar10_resnet20.safetensors'))),
  load_bottleneck_onnx_ms: median(() => readStateDictSync(join(dir, 'resnet_bottleneck_1111_w16.onnx'))),
};
console.log(JSON.stringify(out));
