export { Optimizer, type ParamGroup, type GroupSpec, type ParamState, type ParamStateSnapshot } from './optimizer.js';
export { Adam, type AdamHyper } from './adam.js';
export { SGD, type SgdHyper } from './sgd.js';
