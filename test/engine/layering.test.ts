// The engine's layers import one way (issue "One definition per op"): tensor imports no engine
// layer, autograd only tensor and backend, backend neither ops nor autograd, and the folders
// {tensor, autograd, backend, ops} form no cycle. Runtime imports only: `import type` is erased.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** The top-level src folder of a file ('native.ts' and 'index.ts' count as their own names). */
const folderOf = (file: string): string => relative(src, file).split(/[\\/]/)[0].replace(/\.ts$/, '');

/** [from folder, to folder, file, specifier] for every runtime import or re-export between src folders. */
function edges(): [string, string, string, string][] {
  const out: [string, string, string, string][] = [];
  const re = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'(\.[^']+)'/gm;
  for (const file of sources(src)) {
    for (const m of readFileSync(file, 'utf8').matchAll(re)) {
      if (m[1]) continue;
      const target = resolve(dirname(file), m[2]).replace(/\.js$/, '.ts');
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from !== to) out.push([from, to, relative(src, file), m[2]]);
    }
  }
  return out;
}

describe('engine layering', () => {
  const all = edges();
  const forbidden: Record<string, string[]> = {
    tensor: ['backend', 'autograd', 'ops', 'nn', 'optim'],
    autograd: ['ops', 'nn', 'optim'],
    backend: ['ops', 'autograd', 'nn', 'optim'],
  };

  it('finds the imports it checks', () => {
    expect(all.some(([f, t]) => f === 'ops' && t === 'backend')).toBe(true);
    expect(all.some(([f, t]) => f === 'autograd' && t === 'backend')).toBe(true);
  });

  for (const [from, banned] of Object.entries(forbidden)) {
    it(`${from} imports none of ${banned.join(', ')}`, () => {
      expect(all.filter(([f, t]) => f === from && banned.includes(t)).map(([, , file, spec]) => `${file} -> ${spec}`)).toEqual([]);
    });
  }

  it('tensor, autograd, backend and ops form no import cycle', () => {
    const core = new Set(['tensor', 'autograd', 'backend', 'ops']);
    const next = new Map<string, Set<string>>();
    for (const [f, t] of all) if (core.has(f) && core.has(t)) next.set(f, (next.get(f) ?? new Set()).add(t));
    const reaches = (a: string, b: string, seen = new Set<string>()): boolean =>
      [...(next.get(a) ?? [])].some((n) => n === b || (!seen.has(n) && (seen.add(n), reaches(n, b, seen))));
    expect([...core].filter((c) => reaches(c, c))).toEqual([]);
  });
});
