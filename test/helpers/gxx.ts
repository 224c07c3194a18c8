// Compiles the C++ emulation programs of test/cuda/emu/ with g++ into a temp folder (cached per
// process). Returns null with a reason when g++ is missing, so tests can skip with that reason.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const emuDir = join(repoRoot, 'test', 'cuda', 'emu');

export function gxxVersion(): string | null {
  const r = spawnSync('g++', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  // std::barrier is not needed, but C++20 designated/inline features are: g++ 10 or newer
  return r.stdout.split('\n')[0] ?? 'g++';
}

let outDir: string | null = null;

/** g++ -std=c++20 -O1 -include emu.h <sources> -o <temp>/<name> [extra]; returns the path. */
export function compileEmu(name: string, sources: string[], extra: string[] = []): string {
  outDir ??= mkdtempSync(join(tmpdir(), 'seam-cuda-emu-'));
  const out = join(outDir, name);
  const args = ['-std=c++20', '-O1', '-Wall', '-U_FORTIFY_SOURCE', '-Wno-unused-function', '-Wno-unknown-pragmas', '-include', join(emuDir, 'emu.h'),
    ...sources.map((s) => join(emuDir, s)), '-o', out, ...extra];
  execFileSync('g++', args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}
