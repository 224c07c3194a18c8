// The GPU-free check of kernels/*.cu (DESIGN.md, Testing): g++ compiles the CUDA sources as C++
// under test/cuda/emu/emu.h (blocks in sequence, threads as fibers, barriers and warp shuffles
// scheduled, divergence reported) and test/cuda/emu/main.cpp runs every kernel through the addon's
// launch plans against CPU references, once with threads in ascending and once in descending order
// (a missing __syncthreads changes the result in one of the two). Both orders run concurrently.
import { execFile, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compileEmu, gxxVersion } from '../helpers/gxx.js';

const gxx = gxxVersion();

interface Run { status: number | null; out: string }
function run(exe: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(exe, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ status, out: `${stdout}${stderr}` });
    });
  });
}

describe.skipIf(!gxx)(gxx ? 'CUDA kernels under the C++ emulator' : 'CUDA kernels under the C++ emulator (skipped: g++ not found)', () => {
  const runs = new Map<string, Promise<Run>>();
  it('compiles every kernel file as C++', () => {
    const exe = compileEmu('emu', ['main.cpp']);
    runs.set('ascending', run(exe, []));
    runs.set('descending', run(exe, ['--reverse']));
  }, 300_000);

  for (const order of ['ascending', 'descending']) {
    it(`every kernel matches its CPU reference (threads ${order})`, async () => {
      const pending = runs.get(order);
      expect(pending, 'compiled').toBeDefined();
      const r = await pending!;
      const failures = r.out.split('\n').filter((l) => l.startsWith('FAIL') || l.startsWith('  ') || l.startsWith('emu:'));
      expect(failures.join('\n'), 'first mismatches').toBe('');
      expect(r.status, r.out.slice(-4000)).toBe(0);
      expect(r.out).toMatch(/cuda-emu: \d+ checks, 0 failed/);
    }, 600_000);
  }

  it('the emulator reports a __syncthreads that not every thread reaches', () => {
    const bad = compileEmu('divergent', ['divergent.cpp']);
    const r = spawnSync(bad, { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/kernel divergent_f32.*__syncthreads not reached by every thread/);
  }, 120_000);
});
