export { add, mul, scale, relu, reshape, flatten } from './elementwise.js';
export { matmul, linear } from './linalg.js';
export { conv2d, conv2dBnReluEval, conv2dOutputSize, type BnEvalParams, type Conv2dOptions } from './conv.js';
export { maskedWeight, retainedRatio } from './mask.js';
export { batchNorm2d, batchNormReluEval, type BatchNormOptions } from './norm.js';
export { maxPool2d, avgPool2d, adaptiveAvgPool2d, type PoolOptions } from './pool.js';
export { crossEntropy } from './loss.js';
export { sum, mean, argmax } from './reduce.js';
export { dropout } from './dropout.js';
