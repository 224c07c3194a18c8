import './transfer.js'; // attaches Tensor.prototype.to / cpu / clone / copy_ / moveTo_
export { add, mul, scale, relu, reshape, flatten } from './elementwise.js';
export { matmul, linear } from './linalg.js';
export { conv2d, conv2dOutputSize, type Conv2dOptions } from './conv.js';
export { conv2dBnReluEval, batchNormReluEval, type BnEvalParams } from './fused.js';
export { maskedWeight, retainedRatio } from './mask.js';
export { batchNorm2d, type BatchNormOptions } from './norm.js';
export { maxPool2d, avgPool2d, adaptiveAvgPool2d, type PoolOptions } from './pool.js';
export { crossEntropy } from './loss.js';
export { sum, mean, argmax } from './reduce.js';
export { dropout } from './dropout.js';
export { sigmoid, clip } from './activation.js';
export { broadcastShapes, broadcastTo, concat } from './shape.js';
