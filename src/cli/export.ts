// `seam export`: apply a SeaM mask file to its model and write the re-engineered model (original
// architecture, masked-out weights zero, head as module_head.1.*) as .pt, safetensors, ONNX or the
// compact format; --compact-channels first removes the channels the masks made constant.
import { statSync, writeFileSync } from 'node:fs';
import { exportOnnx } from '../export/onnx.js';
import { compactSizeReport, serializeCompact } from '../export/compact-file.js';
import { compactModel, formatCompactionReport, ONNX_CHANNEL_MULTIPLE, type CompactionReport } from '../export/compaction/index.js';
import { applyMaskFile, prunedStateDict, writeStateDict } from '../export/pruned.js';
import { loadModel } from '../models/load.js';
import type { Module } from '../nn/index.js';
import { parseSize } from '../data/spec.js';
import { intFlag, UsageError } from './args.js';
import { COMMON_OPTIONS, parseCommand, type CommandSpec } from './command.js';
import { modelInput } from './model-input.js';

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
    'compact-channels': { help: 'first remove the channels the masks made constant or left unread' },
    'channel-multiple': { value: 'N', help: 'with --compact-channels: keep multiples of N channels per layer (exact zero channels added)',
      default: '16 for onnx (what onnxruntime runs fastest), else 1' },
    'input-size': { value: 'N|HxW', help: 'input height and width of the export (the ONNX batch stays dynamic)',
      default: "the shape the search ran on (masks.pt), else the model's declared size, else 32 for CIFAR models and 224" },
    out: { value: 'FILE', required: true, help: 'the file to write' },
    json: { help: 'print a summary object on stdout' },
    quiet: COMMON_OPTIONS.quiet,
  },
  example: 'seam export --model model.pt --masks runs/c0/masks.pt --format onnx --compact-channels --channel-multiple 8 --out pruned.onnx',
} as const satisfies CommandSpec;

export async function exportCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(EXPORT, argv);
  if (!parsed) return 0;
  const v = parsed.values;
  const format = (v.format ?? (v.out.endsWith('.safetensors') ? 'safetensors' : v.out.endsWith('.onnx') ? 'onnx' : 'pt')) as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${v.format}"`);
  const log = (s: string): void => void (v.quiet || process.stderr.write(`${s}\n`));

  const loaded = loadModel(v.model, { arch: v.arch });
  const { masks, head, inputShape } = applyMaskFile(loaded.model, v.masks);
  const kept = masks.reduce((a, m) => a + m.mask.f32.reduce((s, x) => s + (x > 0 ? 1 : 0), 0), 0);
  const total = masks.reduce((a, m) => a + m.mask.size, 0);
  log(`model: ${v.model} (${loaded.arch}); masks: ${v.masks}, ${(100 * kept / total).toFixed(2)}% of the masked weights kept; head ${(head.layers[1] as Module).describe()}`);
  const declared = modelInput(loaded);
  const channels = inputShape?.[0] ?? declared.channels ?? loaded.options.inChannels ?? 3;
  let sampleShape: number[];
  if (v['input-size'] !== undefined) {
    let size: ReturnType<typeof parseSize>;
    try {
      size = parseSize(v['input-size'], '--input-size');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    sampleShape = 'height' in size ? [channels, size.height, size.width] : [channels, size.shorter, size.shorter];
  } else if (inputShape) {
    sampleShape = inputShape;
  } else {
    // a mask file from before the shape was recorded: the model's declared size, else the usual one
    const side = loaded.arch.startsWith('cifar_') ? 32 : 224;
    sampleShape = [channels, declared.height ?? side, declared.width ?? side];
    log(`input shape: ${sampleShape.join('x')} (${v.masks} does not record the search's; --input-size sets it)`);
  }

  let compaction: CompactionReport | null = null;
  if (v['compact-channels']) {
    const channelMultiple = intFlag(v['channel-multiple'], 'channel-multiple', format === 'onnx' ? ONNX_CHANNEL_MULTIPLE : 1);
    compaction = compactModel(loaded.model, head, { sampleShape, channelMultiple });
    log(formatCompactionReport(compaction));
  }
  const meta: Record<string, string> = { arch: loaded.arch, options: JSON.stringify(loaded.options), compacted: String(Boolean(compaction)) };
  let extra: Record<string, unknown> = {};
  if (format === 'onnx') {
    exportOnnx(loaded.model, head, [1, ...sampleShape], v.out);
    log(`onnx input: [batch, ${sampleShape.join(', ')}]`);
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
      out: v.out, format, bytes, arch: loaded.arch, kept_ratio: kept / total, input_shape: sampleShape, ...extra,
      ...(compaction ? { channels_removed: compaction.channelsRemoved, parameters: compaction.parameters, flops: compaction.flops, kept_constant_channels: compaction.kept.length } : {}),
    }));
  }
  return 0;
}
