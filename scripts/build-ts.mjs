#!/usr/bin/env node
// Builds dist/ from src/: tsc writes the .d.ts files (the package's types), esbuild the JavaScript as
// bundles, because one module graph of a few files loads several times faster than the ~130 files
// tsc would emit (`import 'seam'` measured 275 ms unbundled against 165 ms bundled, bare node 110).
//   dist/index.js  ESM entry of the package      dist/cli.js  the `seam` command
//   dist/queue-job.js  a `seam worker` job's process
//   dist/chunk-*.js  code both share              dist/index.cjs  CommonJS entry (require('seam'))
// Dependencies stay external (node-gyp-build, protobufjs and sharp load from node_modules; the last
// two only when first used).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const common = { bundle: true, platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning', absWorkingDir: root };

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
await build({
  ...common,
  // queue-job: the sandboxed process of a `seam worker` job (BullMQ loads it by file name)
  entryPoints: { index: 'src/index.ts', cli: 'src/cli/main.ts', 'queue-job': 'src/queue/job-process.ts' },
  format: 'esm',
  splitting: true,
  outdir: dist,
  chunkNames: 'chunk-[hash]',
});
// CommonJS has no import.meta: the addon loader and the lazy requires get the file's URL from __filename.
await build({
  ...common,
  entryPoints: ['src/index.ts'],
  format: 'cjs',
  outfile: join(dist, 'index.cjs'),
  define: { 'import.meta.url': '__seam_import_meta_url' },
  banner: { js: "const __seam_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
});
