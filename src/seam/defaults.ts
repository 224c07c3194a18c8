// The paper's per-model hyper-parameters (SEAM.md §3): lr_mask and alpha by architecture, dataset
// and problem kind; lr_head is 0.1 throughout. Anything else starts from lr_mask 0.05, alpha 1.

export interface PaperDefaults {
  lrMask: number;
  alpha: number;
  lrHead: number;
  source: string;
}

export function paperDefaults(arch: string, dataKind: string, problemKind: 'binary' | 'multiclass'): PaperDefaults {
  const table: [RegExp, string, 'binary' | 'multiclass', number, number][] = [
    [/^cifar_vgg16_bn$/, 'cifar10', 'binary', 0.01, 1.0],
    [/^cifar_vgg16_bn$/, 'cifar100', 'binary', 0.05, 1.5],
    [/^cifar_resnet20$/, 'cifar10', 'binary', 0.05, 1.0],
    [/^cifar_resnet20$/, 'cifar100', 'binary', 0.12, 1.5],
    [/^cifar_resnet20$/, 'cifar100', 'multiclass', 0.1, 2.0],
    [/^resnet50$/, 'folder', 'multiclass', 0.05, 2.0],
  ];
  const hit = table.find(([a, d, k]) => a.test(arch) && d === dataKind && k === problemKind);
  if (hit) return { lrMask: hit[3], alpha: hit[4], lrHead: 0.1, source: `paper (${arch}, ${dataKind}, ${problemKind})` };
  return { lrMask: 0.05, alpha: 1.0, lrHead: 0.1, source: 'generic (lr_mask 0.05, alpha 1)' };
}
