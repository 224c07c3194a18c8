// Topological order of an ONNX graph's nodes (the file's order when it is one, else Kahn's algorithm),
// with errors naming the node whose input nothing produces, or the nodes on a cycle.
import type { OnnxNode } from '../io/onnx.js';

export function topologicalNodes(nodes: OnnxNode[], available: Set<string>, where: string): OnnxNode[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (!o) continue;
      if (producer.has(o) || available.has(o)) throw new Error(`${where}: value "${o}" is produced twice (node "${n.name}")`);
      producer.set(o, i);
    }
  });
  const waiting = nodes.map(() => 0);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const inp of new Set(n.inputs)) {
      if (!inp || available.has(inp)) continue;
      const p = producer.get(inp);
      if (p === undefined) throw new Error(`${where}: node "${n.name}" (${n.opType}) reads "${inp}", which no node, initializer or graph input provides`);
      waiting[i]++;
      dependents[p].push(i);
    }
  });
  // already sorted (the usual case): keep the file's order, which is the exporter's module order
  if (nodes.every((n, i) => n.inputs.every((inp) => !inp || available.has(inp) || producer.get(inp)! < i))) return [...nodes];
  const order: OnnxNode[] = [];
  const ready = nodes.flatMap((_, i) => (waiting[i] === 0 ? [i] : []));
  for (let r = 0; r < ready.length; r++) {
    const i = ready[r];
    order.push(nodes[i]);
    for (const d of dependents[i]) if (--waiting[d] === 0) ready.push(d);
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.filter((_, i) => waiting[i] > 0).slice(0, 5).map((n) => `"${n.name}"`);
    throw new Error(`${where}: the graph has a cycle through ${stuck.join(', ')}`);
  }
  return order;
}
