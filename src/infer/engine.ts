// InferenceEngine: runs a planned model. Activations live in a few preallocated slots shared by
// values whose lifetimes do not overlap (assigned once at plan time, grown when a larger batch
// comes); each step is one native call with the epilogue (bias, residual, ReLU) fused in.
import { native } from '../native.js';
import { convParams, type ConvStep, type Graph, type Step } from './graph.js';
import { loweringOf, packSparse, sparseLowering, type SparseWeights } from './pack.js';
import type { LayerPlan } from './plan.js';

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

interface Bound {
  step: Step;
  x: Float32Array;
  y: Float32Array;
  residual: Float32Array | null;
  params: Int32Array;
  /** the packing of a sparse conv for the bound batch */
  sparse: SparseWeights | null;
}

export class InferenceEngine {
  /** per image: [C, H, W] */
  readonly inputShape: readonly number[];
  /** per image: the output features (logits) */
  readonly outputSize: number;
  /** conv/linear layers in execution order with the kernel chosen for each */
  readonly layers: LayerPlan[];
  private readonly slotOf: number[];
  private readonly slotPerImage: number[];
  private batch = 0;
  private bound: Bound[] = [];
  private argmax = new Int32Array(0);
  /** every packing made so far per sparse conv (the planned one first), one per lowering */
  private readonly packs = new Map<ConvStep, SparseWeights[]>();

  constructor(private readonly graph: Graph, private readonly plans: Map<ConvStep, LayerPlan>) {
    this.inputShape = graph.shapes[0];
    this.outputSize = size(graph.shapes[graph.output]);
    this.layers = graph.steps.filter((s): s is ConvStep => s.kind === 'conv').map((s) => plans.get(s)!);
    // Liveness: a value's slot is free after the last step reading it (value 0 is the caller's input).
    const lastUse = new Array<number>(graph.shapes.length).fill(-1);
    graph.steps.forEach((s, i) => {
      lastUse[s.input] = i;
      if (s.kind === 'conv' && s.residual !== null) lastUse[s.residual] = i;
    });
    lastUse[graph.output] = graph.steps.length;
    this.slotOf = new Array<number>(graph.shapes.length).fill(-1);
    this.slotPerImage = [];
    const free: number[] = [];
    graph.steps.forEach((s, i) => {
      const need = size(graph.shapes[s.output]);
      // Best fit among the free slots (the largest when none is big enough, grown then).
      free.sort((a, b) => this.slotPerImage[a] - this.slotPerImage[b]);
      const fit = free.findIndex((k) => this.slotPerImage[k] >= need);
      const pick = fit >= 0 ? free.splice(fit, 1)[0] : free.length ? free.pop()! : this.slotPerImage.push(0) - 1;
      this.slotPerImage[pick] = Math.max(this.slotPerImage[pick], need);
      this.slotOf[s.output] = pick;
      const reads = s.kind === 'conv' && s.residual !== null ? [s.input, s.residual] : [s.input];
      for (const v of new Set(reads)) if (v !== 0 && lastUse[v] === i) free.push(this.slotOf[v]);
    });
  }

  /** Number of activation buffers and their total floats per image (for reports). */
  memoryPerImage(): { slots: number; floats: number } {
    return { slots: this.slotPerImage.length, floats: this.slotPerImage.reduce((a, b) => a + b, 0) };
  }

  private bind(batch: number): void {
    const g = this.graph;
    const slots = this.slotPerImage.map((n) => new Float32Array(n * batch));
    const view = (v: number, x: Float32Array): Float32Array => (v === 0 ? x : slots[this.slotOf[v]].subarray(0, size(g.shapes[v]) * batch));
    const placeholder = new Float32Array(0);
    let pool = 0;
    this.bound = g.steps.map((step) => {
      let params: Int32Array;
      if (step.kind === 'conv') params = convParams(step.geom, batch);
      else {
        const [c, h, w] = g.shapes[step.input];
        if (step.kind === 'maxpool') {
          const [kh, kw, sh, sw, ph, pw, dh, dw, ceil] = step.pool;
          params = Int32Array.from([batch, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil, 1]);
          pool = Math.max(pool, size(g.shapes[step.output]) * batch);
        } else params = Int32Array.from([batch * c, h * w]);
      }
      const residual = step.kind === 'conv' && step.residual !== null ? view(step.residual, placeholder) : null;
      const sparse = step.kind === 'conv' ? this.sparseFor(this.plans.get(step)!, batch) : null;
      return { step, x: view(step.input, placeholder), y: view(step.output, placeholder), residual, params, sparse };
    });
    this.argmax = new Int32Array(pool);
    this.batch = batch;
  }

  /** The layer's sparse weights packed for the lowering the addon picks at this batch size. */
  private sparseFor(plan: LayerPlan, batch: number): SparseWeights | null {
    if (!plan.sparse) return null;
    const code = sparseLowering(plan.step.geom, batch);
    const have = this.packs.get(plan.step) ?? [plan.sparse];
    let sw = have.find((p) => loweringOf(p) === code);
    if (!sw) have.push((sw = packSparse(plan.step.geom, plan.step.layer.weight, batch)));
    this.packs.set(plan.step, have);
    return sw;
  }

  /** Logits for `batch` images in x (NCHW, batch * C*H*W floats); a new array of batch * outputSize. */
  run(x: Float32Array, batch: number): Float32Array {
    if (!(x instanceof Float32Array)) throw new Error('engine.run: x must be a Float32Array');
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`engine.run: batch must be a positive integer, got ${batch}`);
    const per = size(this.inputShape);
    if (x.length !== batch * per) {
      throw new Error(`engine.run: x has ${x.length} elements, expected batch * C*H*W = ${batch} * ${per} = ${batch * per} (image [${this.inputShape.join(', ')}])`);
    }
    if (batch !== this.batch) this.bind(batch);
    let out: Float32Array | null = null;
    for (const b of this.bound) {
      const xin = b.step.input === 0 ? x : b.x;
      const res = b.step.kind === 'conv' && b.step.residual === 0 ? x : b.residual;
      this.exec(b, xin, res);
      out = b.y;
    }
    return Float32Array.from(out ?? x);
  }

  private exec(b: Bound, x: Float32Array, residual: Float32Array | null): void {
    const s = b.step;
    if (s.kind === 'conv') {
      const sp = b.sparse;
      if (sp) native.sparseConvForward(x, sp.rowPtr, sp.offs, sp.vals, s.layer.bias, residual, b.y, b.params, sp.mode, sp.tile, s.relu);
      else native.denseConvFused(x, s.layer.weight, s.layer.bias, residual, b.y, b.params, s.relu);
    } else if (s.kind === 'maxpool') {
      const p = b.params;
      const simple = p[4] === 2 && p[5] === 2 && p[6] === 2 && p[7] === 2 && p[8] === 0 && p[9] === 0 && p[10] === 1 && p[11] === 1 && p[12] === 0;
      if (simple) native.maxPool2x2Infer(x, b.y, p);
      else native.maxPool2dForward(x, b.y, this.argmax.subarray(0, b.y.length), p);
    } else {
      native.globalAvgPoolForward(x, b.y, b.params[0], b.params[1]);
    }
  }
}
