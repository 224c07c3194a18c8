// Inference for (re-engineered, sparse) models: plan once, run many times.
export { planModel, chooseKernel, sparseCrossover, packSparse, convParams, type PlanOptions, type LayerPlan, type KernelChoice, type SparseWeights } from './plan.js';
export { InferenceEngine } from './engine.js';
export { buildGraph, type Graph, type Step, type ConvStep, type ConvGeometry } from './graph.js';
export { foldConv, foldLinear, type FoldedLayer } from './fold.js';
