#!/usr/bin/env node
// Builds the Rust addon in release mode and puts the .node file where node-gyp-build looks
// (build/Release/). Uses @napi-rs/cli when it is installed, plain cargo otherwise.
// --if-missing: do nothing when a built addon is already there (npm's install step).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'build', 'Release');

function hasAddon() {
  for (const dir of [outDir, join(root, 'prebuilds', `${process.platform}-${process.arch}`)]) {
    if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.node'))) return true;
  }
  return false;
}

if (process.argv.includes('--if-missing') && hasAddon()) process.exit(0);

const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (cargo.error || cargo.status !== 0) {
  console.error(
    'seam: cannot build the native addon because `cargo` (the Rust toolchain) was not found.\n' +
      '  Install Rust (https://rustup.rs, or `apt-get install cargo` on Debian) and run `npm run build:native`.',
  );
  process.exit(1);
}

mkdirSync(outDir, { recursive: true });
const napiBin = join(root, 'node_modules', '.bin', 'napi');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
if (existsSync(napiBin)) {
  run(napiBin, ['build', '--release', '--output-dir', outDir]);
} else {
  run('cargo', ['build', '--release', '--lib']);
  const ext = process.platform === 'darwin' ? 'dylib' : process.platform === 'win32' ? 'dll' : 'so';
  const lib = join(root, 'target', 'release', `${process.platform === 'win32' ? '' : 'lib'}seam_native.${ext}`);
  copyFileSync(lib, join(outDir, 'seam.node'));
}
if (!hasAddon()) {
  console.error(`seam: the build finished but no .node file appeared in ${outDir}`);
  process.exit(1);
}
