// `seam info`: which native addon this installation loaded (the prebuilt one shipped in the package,
// or one built from source here), the SIMD kernels the CPU dispatch picked, threads, and CUDA.
import { sep } from 'node:path';
import { cudaStatus } from '../backend/cuda-native.js';
import { addonPath, nativeInfo } from '../native.js';
import { parseCommand, type CommandSpec } from './command.js';

export const INFO = {
  name: 'info',
  summary: 'the native addon loaded (prebuild or local build, its path), the SIMD kernels dispatched to, threads and CUDA',
  options: { json: { help: 'print one JSON object' } },
  example: 'seam info --json',
} as const satisfies CommandSpec;

export async function infoCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(INFO, argv);
  if (!parsed) return 0;
  const n = nativeInfo();
  const addon = addonPath.includes(`${sep}prebuilds${sep}`) ? 'prebuild' : 'local build';
  const cuda = cudaStatus();
  if (parsed.values.json) {
    console.log(JSON.stringify({ version: n.version, addon, path: addonPath, simd: n.simd, threads: n.threads, cuda, node: process.version,
      platform: `${process.platform}-${process.arch}` }));
    return 0;
  }
  console.log(`seam addon ${n.version} on node ${process.version}, ${process.platform}-${process.arch}`);
  console.log(`addon:   ${addon}, ${addonPath}`);
  console.log(`cpu:     ${n.simd} kernels (chosen at run time from avx512, avx2, portable)`);
  console.log(`threads: ${n.threads} (SEAM_NUM_THREADS sets them)`);
  console.log(`cuda:    ${cuda.available ? `${cuda.device} (cc ${cuda.cc}, ${cuda.image})` : `not available: ${cuda.reason}`}`);
  return 0;
}
