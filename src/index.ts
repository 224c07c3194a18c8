// seam's public API: the engine (tensors, autograd, ops, nn, optim), model I/O and the zoo, data,
// and the SeaM search.
export { Tensor, numel, type Shape, type Device, type DType } from './tensor/tensor.js';
export { deviceScope, keepTensor } from './backend/storage.js';
export { recyclingScope } from './backend/cpu-pool.js';
export { deviceMemory, emptyDeviceCache, type DeviceMemoryStats } from './backend/allocator.js';
export { cudaStatus, type CudaStatus } from './backend/cuda-native.js';
export { fromRaw, toRaw } from './tensor/raw.js';
export { backward } from './autograd/backward.js';
export { noGrad, isGradEnabled } from './autograd/node.js';
export * as ops from './ops/index.js';
export * from './nn/index.js';
export * from './optim/index.js';
export { native, nativeInfo } from './native.js';
export { Rng } from './util/rng.js';
export * from './io/index.js';
export { loadModel, readWeights, type LoadedModel } from './models/load.js';
export { ARCHITECTURES, buildModel, guessArchitecture } from './models/zoo.js';
export { CifarResNet } from './models/cifar-resnet.js';
export { CifarVGG } from './models/cifar-vgg.js';
export { TorchvisionResNet, torchvisionResNet } from './models/torchvision-resnet.js';
export {
  openData, dataSpecFromArgs, trainLoader, evalLoader, binaryProblem, classListProblem, cifar100SuperclassProblem,
  csvSuperclassProblem, DataLoader, type TargetProblem, type OpenedData, type Batch,
} from './data/index.js';
export { reengineer, SearchError, SEARCH_DEFAULTS, type SearchOptions, type SearchResult, type SearchEvent } from './seam/search.js';
export { attachMasks, seamTrain, maskRatio, GRANULARITIES, type Granularity, type MaskEntry, type AttachOptions } from './seam/masks.js';
export { saveMaskFile, applyMaskTensors } from './seam/mask-file.js';
export { saveCompactMaskFile, compactMaskPath } from './seam/mask-compact.js';
export { paperDefaults } from './seam/defaults.js';
export { countFlops } from './seam/flops.js';
export { OnnxGraphModel, type GraphStep } from './models/onnx-graph.js';
export { planModel, InferenceEngine, type PlanOptions } from './infer/index.js';
export { exportOnnx, buildOnnxExport } from './export/onnx.js';
export {
  applyMaskFile, readMaskFile, buildHead, prunedStateDict, writeStateDict, loadReengineered, reengineeredFromStateDict, reengineeredLogits,
} from './export/pruned.js';
export { serializeCompact, writeCompactFile, parseCompact, compactSizeReport, type CompactSizeReport } from './export/compact-file.js';
export { compactModel, formatCompactionReport, fitToStateDict, type CompactionReport, type CompactOptions } from './export/compaction/index.js';
export { finetune, accuracyOf, FINETUNE_DEFAULTS, type FinetuneOptions, type FinetuneResult, type FinetuneEvent } from './seam/finetune.js';
export { findOutputLayer, replaceOutputLayer, penultimate } from './seam/output-layer.js';
export { reengineerForDefect, zeroMaskedWeights, type DefectSearchOptions, type DefectSearchResult } from './seam/defect-search.js';
export { runDefectPipeline, DEFECT_DEFAULTS, type DefectOptions, type DefectResult, type DefectEvent } from './seam/defect.js';
export { pgd, pgdClassifier, inputGradient, featureTargetLoss, crossEntropyLoss, withFrozenModel, type PgdOptions } from './attack/pgd.js';
export { craftFeatureAdversarials, defectInheritanceRate, DIR_ATTACK_DEFAULTS, type DirResult } from './attack/dir.js';
