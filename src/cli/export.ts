// `seam export`: apply a SeaM mask file to its model and write the re-engineered model (original
// architecture, masked-out weights zero, head as module_head.1.*) as .pt, safetensors, ONNX or the
// compact format; --compact-channels first removes the channels the masks made constant.
import { statSync, writeFileSync } from 'node:fs';
import { exportOnnx } from '../export/onnx.js';
import { compactSizeReport, serializeCompact } from '../export/compact-file.js';
import { compactModel, formatCompactionReport, type CompactionReport } from '../export/compaction/index.js';
import { applyMaskFile, prunedStateDict, writeStateDict } from '../export/pruned.js';
import { loadModel } from '../models/load.js';
import type { Module } from '../nn/index.js';
import { intFlag, UsageError } from './args.js';
import { COMMON_OPTIONS, parseCommand, type CommandSpec } from './command.js';

const FORMATS = ['pt', 'safetensors', 'onnx', 'compact'] as const;
type Format = (typeof FORMATS)[number];

export const EXPORT = {
  name: 'export',
  summary: 'apply a SeaM mask file to its model and write the re-engineered model (masked-out weights zero, head as module_head.1.*)',
  options: {
    model: COMMON_OPTIONS.model,
    arch: COMMON_OPTIONS.arch,
    masks: COMMON_OPTIONS.masks,
    format: { value: 'pt|safetensors|onnx|compact', help: 'output format', default: "from --out's extension (.safetensors, .onnx), else pt" },
    'compact-channels': { help: 'first remove the channels the masks made constant' },
    'input-size': { value: 'N', help: 'input height and width used to trace the model', default: '32 for CIFAR models, else 224' },
    out: { value: 'FILE', required: true, help: 'the file to write' },
    json: { help: 'print a summary object on stdout' },
    quiet: COMMON_OPTIONS.quiet,
  },
  example: 'seam export --model model.pt --masks runs/c0/masks.pt --format onnx --compact-channels --out pruned.onnx',
} as const satisfies CommandSpec;

export async function exportCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(EXPORT, argv);
  if (!parsed) return 0;
  const v = parsed.values;
  const format = (v.format ?? (v.out.endsWith('.safetensors') ? 'safetensors' : v.out.endsWith('.onnx') ? 'onnx' : 'pt')) as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${v.format}"`);
  const log = (s: string): void => void (v.quiet || process.stderr.write(`${s}\n`));

  const loaded = loadModel(v.model, { arch: v.arch });
  const { masks, head } = applyMaskFile(loaded.model, v.masks);
  const kept = masks.reduce((a, m) => a + m.mask.f32.reduce((s, x) => s + (x > 0 ? 1 : 0), 0), 0);
  const total = masks.reduce((a, m) => a + m.mask.size, 0);
  log(`model: ${v.model} (${loaded.arch}); masks: ${v.masks}, ${(100 * kept / total).toFixed(2)}% of the masked weights kept; head ${(head.layers[1] as Module).describe()}`);
  const inputSize = intFlag(v['input-size'], 'input-size', loaded.arch.startsWith('cifar_') ? 32 : 224);
  const sampleShape = [loaded.options.inChannels ?? 3, inputSize, inputSize];

  let compaction: CompactionReport | null = null;
  if (v['compact-channels']) {
    compaction = compactModel(loaded.model, head, { sampleShape });
    log(formatCompactionReport(compaction));
  }
  const meta: Record<string, string> = { arch: loaded.arch, options: JSON.stringify(loaded.options), compacted: String(Boolean(compaction)) };
  let extra: Record<string, unknown> = {};
  if (format === 'onnx') {
    exportOnnx(loaded.model, head, [1, ...sampleShape], v.out);
  } else {
    const sd = prunedStateDict(loaded.model, head);
    if (format === 'compact') {
      const bytes = serializeCompact(sd, meta);
      writeFileSync(v.out, bytes);
      const size = compactSizeReport(sd, bytes);
      log(`compact file: ${size.compactBytes} bytes against ${size.denseBytes} dense (safetensors), ${(100 * size.ratio).toFixed(1)}%; ` +
        `tensors stored dense ${size.encodings.dense}, bitmask ${size.encodings.bitmask}, csr ${size.encodings.csr}`);
      extra = { dense_bytes: size.denseBytes, encodings: size.encodings };
    } else {
      writeStateDict(v.out, sd, format, meta);
    }
  }
  const bytes = statSync(v.out).size;
  log(`wrote ${v.out} (${format}, ${bytes} bytes)`);
  if (v.json) {
    console.log(JSON.stringify({
      out: v.out, format, bytes, arch: loaded.arch, kept_ratio: kept / total, ...extra,
      ...(compaction ? { channels_removed: compaction.channelsRemoved, parameters: compaction.parameters, flops: compaction.flops, kept_constant_channels: compaction.kept.length } : {}),
    }));
  }
  return 0;
}
