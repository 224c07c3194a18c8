// Module paths for layers imported from ONNX: PyTorch's names when the exporter kept them (in the
// initializer names, e.g. "fc.weight", or in the node's scope, e.g. "/layer1/layer1.0/conv1/Conv"),
// sanitised to valid module paths and made unique; GraphScope containers hold the nested tree.
import { Module } from '../nn/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { OnnxNode } from '../io/onnx.js';

/** A named container in the imported module tree (no forward of its own). */
export class GraphScope extends Module {
  forward(_x: Tensor): Tensor {
    throw new Error('GraphScope is a container of imported layers; run the OnnxGraphModel instead');
  }
}

const PARAM_SUFFIX = /\.(weight|bias|running_mean|running_var|scale|B|mean|var)$/;

/** "layer1.0.conv1"-style path from a PyTorch exporter scope "/layer1/layer1.0/conv1/Conv". */
export function scopePath(nodeName: string): string {
  if (!nodeName.startsWith('/')) return '';
  const segs = nodeName.split('/').filter(Boolean).slice(0, -1);
  const parts: string[] = [];
  let prev = '';
  for (const s of segs) {
    // torch names a Sequential's child "parent.N" inside the scope "parent": keep only the new tail
    if (prev && s.startsWith(`${prev}.`)) parts.push(s.slice(prev.length + 1));
    else parts.push(s);
    prev = s;
  }
  return parts.join('.');
}

export function sanitizePath(p: string): string {
  return p.split('.').map((c) => c.replace(/[^A-Za-z0-9_]/g, '_')).filter((c) => c && c !== '_').join('.');
}

/** The preferred path for the layer of `node` whose main parameter is the initializer `paramName`. */
export function layerPath(node: OnnxNode, paramName: string, index: number): string {
  if (PARAM_SUFFIX.test(paramName) && !paramName.startsWith('onnx::')) {
    const p = sanitizePath(paramName.replace(PARAM_SUFFIX, ''));
    if (p) return p;
  }
  const fromScope = sanitizePath(scopePath(node.name));
  if (fromScope) return fromScope;
  const fromName = sanitizePath(node.name.replace(/\//g, '.'));
  return fromName || `${node.opType.toLowerCase()}_${index}`;
}

/** Registers `m` under the dotted `path` below `root`, creating GraphScopes; returns the path used
 *  (a suffix "_1", "_2", ... is added to the last part when the path is taken). */
export function registerAtPath(root: Module, path: string, m: Module): string {
  const parts = path.split('.');
  let parent: Module = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const existing = parent.child(parts[i]);
    if (existing && !(existing instanceof GraphScope)) {
      // a layer already has this name: flatten the rest into one unique name under the parent
      return registerUnique(parent, parts.slice(i).join('_'), m, parts.slice(0, i));
    }
    parent = existing ?? parent.registerModule(parts[i], new GraphScope());
  }
  return registerUnique(parent, parts[parts.length - 1], m, parts.slice(0, -1));
}

function registerUnique(parent: Module, name: string, m: Module, prefix: string[]): string {
  let n = name;
  for (let k = 1; parent.child(n); k++) n = `${name}_${k}`;
  parent.registerModule(n, m);
  return [...prefix, n].join('.');
}
