// ONNX Pad, Resize and Upsample: Pad through the engine's pad (constant, reflect, edge, wrap; any
// axes), Resize / Upsample through resize() with the per-axis weights of util/resample.ts (nearest,
// linear, cubic; every coordinate transformation, antialias, exclude_outside, axes, aspect-ratio policies).
import type { OnnxNode } from '../io/onnx.js';
import { add, mul, normAxis, pad, resize, type PadMode } from '../ops/index.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import {
  axisResample, COORDINATE_MODES, NEAREST_MODES, type AxisResample, type CoordinateMode, type NearestMode, type ResampleMode,
} from '../util/resample.js';
import { attrFloat, attrInt, attrInts, attrString, nodeError } from './onnx-attrs.js';
import { floatInput, ints, need, scalar, type Inputs, type OpContext, type OpFn } from './onnx-op-util.js';

const PAD_MODES: readonly string[] = ['constant', 'reflect', 'edge', 'wrap'];

function padOp(n: OnnxNode, i: Inputs, ctx: OpContext): Tensor {
  const x = need(n, i, 0);
  const mode = attrString(n, 'mode', 'constant');
  if (!PAD_MODES.includes(mode)) throw nodeError(n, `unknown mode "${mode}"`);
  const given = ctx.opset >= 11 ? ints(n, need(n, i, 1), 'pads') : attrInts(n, 'pads') ?? [];
  const value = ctx.opset >= 11 ? scalar(n, i[2], 0, 'constant_value') : attrFloat(n, 'value', 0);
  const axes = (ctx.opset >= 18 && i[3] ? ints(n, i[3], 'axes') : x.shape.map((_, k) => k)).map((a) => normAxis('Pad', a, x.ndim));
  if (given.length !== 2 * axes.length) throw nodeError(n, `${given.length} pads for ${axes.length} axes of ${shapeStr(x.shape)}`);
  const pads = new Array<number>(2 * x.ndim).fill(0);
  axes.forEach((a, k) => {
    pads[a] = given[k];
    pads[a + x.ndim] = given[k + axes.length];
  });
  return pad(x, pads, mode as PadMode, value);
}

interface ResizeRequest {
  scales?: number[];
  sizes?: number[];
  mode: string;
  coordinate: string;
  /** the nearest rounding when the node has no nearest_mode attribute */
  nearest?: NearestMode;
  roi?: number[];
}

function floats(n: OnnxNode, t: Tensor | undefined, what: string): number[] | undefined {
  if (!t || t.size === 0) return undefined;
  if (t.dtype !== 'f32') throw nodeError(n, `${what} must be a float tensor, got ${t.dtype}`);
  return Array.from(t.hostValues(what));
}

function resizeWith(n: OnnxNode, x: Tensor, req: ResizeRequest): Tensor {
  const modes: Record<string, ResampleMode> = { nearest: 'nearest', linear: 'linear', bilinear: 'linear', cubic: 'cubic' };
  const mode = modes[req.mode];
  if (!mode) throw nodeError(n, `unknown mode "${req.mode}"`);
  if (!COORDINATE_MODES.includes(req.coordinate as CoordinateMode)) throw nodeError(n, `unknown coordinate_transformation_mode "${req.coordinate}"`);
  const nearest = attrString(n, 'nearest_mode', req.nearest ?? 'round_prefer_floor');
  if (!NEAREST_MODES.includes(nearest as NearestMode)) throw nodeError(n, `unknown nearest_mode "${nearest}"`);
  const antialias = attrInt(n, 'antialias', 0) !== 0;
  if (antialias && mode === 'nearest') throw nodeError(n, 'antialias needs mode linear or cubic');
  const r = x.ndim;
  const axes = (attrInts(n, 'axes') ?? x.shape.map((_, k) => k)).map((a) => normAxis('Resize', a, r));
  const given = req.sizes ?? req.scales;
  if (!given || given.length !== axes.length) throw nodeError(n, `expected ${axes.length} scales or sizes for ${shapeStr(x.shape)}, got [${given ?? []}]`);
  const scales = new Array<number>(r).fill(1);
  const sizes = [...x.shape];
  if (req.sizes) {
    const policy = attrString(n, 'keep_aspect_ratio_policy', 'stretch');
    axes.forEach((a, k) => (scales[a] = req.sizes![k] / x.shape[a]));
    if (policy !== 'stretch') {
      if (policy !== 'not_larger' && policy !== 'not_smaller') throw nodeError(n, `unknown keep_aspect_ratio_policy "${policy}"`);
      const s = axes.map((a) => scales[a]).reduce((p, q) => (policy === 'not_larger' ? Math.min(p, q) : Math.max(p, q)));
      axes.forEach((a) => (scales[a] = s));
      axes.forEach((a) => (sizes[a] = Math.floor(s * x.shape[a] + 0.5)));
    } else {
      axes.forEach((a, k) => (sizes[a] = req.sizes![k]));
    }
  } else {
    axes.forEach((a, k) => {
      scales[a] = req.scales![k];
      sizes[a] = Math.floor(x.shape[a] * req.scales![k]);
    });
  }
  if (scales.some((s) => !(s > 0))) throw nodeError(n, `scales [${scales}] must be positive`);
  const extrapolation = attrFloat(n, 'extrapolation_value', 0);
  const specs: (AxisResample | null)[] = x.shape.map((d, a) => {
    const k = axes.indexOf(a);
    const roi = req.roi && k >= 0 ? [req.roi[k], req.roi[k + axes.length]] as const : undefined;
    if (k < 0 || (sizes[a] === d && scales[a] === 1 && (!roi || (roi[0] === 0 && roi[1] === 1)))) return null;
    return axisResample(d, sizes[a], scales[a], {
      mode, coordinate: req.coordinate as CoordinateMode, nearest: nearest as NearestMode, cubicA: attrFloat(n, 'cubic_coeff_a', -0.75),
      excludeOutside: attrInt(n, 'exclude_outside', 0) !== 0, antialias, roi,
    });
  });
  const y = resize(x, specs);
  if (req.coordinate !== 'tf_crop_and_resize') return y;
  // outputs whose source lies outside the region take the extrapolation value
  const outsideAny = outsideMask(specs, y.shape);
  if (!outsideAny) return y;
  const keep = new Tensor(outsideAny.map((o) => (o ? 0 : 1)), y.shape).to(y.device);
  const fill = new Tensor(outsideAny.map((o) => (o ? extrapolation : 0)), y.shape).to(y.device);
  return add(mul(y, keep), fill);
}

/** 1 where any resized axis puts the output outside the crop region, or null when none does. */
function outsideMask(specs: readonly (AxisResample | null)[], shape: readonly number[]): Float32Array | null {
  if (!specs.some((s) => s?.outside?.some((v) => v))) return null;
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < out.length; k++) {
    out[k] = specs.some((s, d) => s?.outside?.[idx[d]]) ? 1 : 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function resizeOp(n: OnnxNode, i: Inputs, ctx: OpContext): Tensor {
  const x = floatInput(n, i, 0);
  if (ctx.opset < 11) {
    // opset 10: Resize(X, scales), asymmetric coordinates, nearest rounds down (as Upsample)
    return resizeWith(n, x, { scales: floats(n, need(n, i, 1), 'scales'), mode: attrString(n, 'mode', 'nearest'), coordinate: 'asymmetric', nearest: 'floor' });
  }
  return resizeWith(n, x, {
    roi: floats(n, i[1], 'roi'),
    scales: floats(n, i[2], 'scales'),
    sizes: i[3] && i[3].size > 0 ? ints(n, i[3], 'sizes') : undefined,
    mode: attrString(n, 'mode', 'nearest'),
    coordinate: attrString(n, 'coordinate_transformation_mode', 'half_pixel'),
  });
}

function upsample(n: OnnxNode, i: Inputs): Tensor {
  const x = floatInput(n, i, 0);
  const scales = i[1] ? floats(n, i[1], 'scales') : (n.attributes.scales as number[] | undefined);
  return resizeWith(n, x, { scales, mode: attrString(n, 'mode', 'nearest'), coordinate: 'asymmetric', nearest: 'floor' });
}

export const RESIZE_OPS: Record<string, OpFn> = { Pad: padOp, Resize: resizeOp, Upsample: upsample };
