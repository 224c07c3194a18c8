export { Module, formatLoadReport, type LoadReport, type StateDictT } from './module.js';
export { manualSeed, withoutInit } from './init.js';
export { Conv2d, type Conv2dConfig, type ConvEpilogue } from './conv.js';
export { Linear } from './linear.js';
export { BatchNorm2d } from './batchnorm.js';
export { ReLU, Identity, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Dropout } from './layers.js';
export { Sequential, layerUnits, type LayerUnit } from './sequential.js';
