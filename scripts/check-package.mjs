#!/usr/bin/env node
// The package as a user gets it (`npm run check:package`, run by .ci/run): npm pack, then install the
// tarball into an empty project with cargo, rustc and nvcc removed from PATH, and there: ESM import and
// CommonJS require, a TypeScript file typechecked against the shipped types, `seam info`, and the
// README's "Use it as a dependency" section run as written (a planned model, a one-epoch search on the
// bundled example). Prints the packed and installed sizes; fails past the size budget below.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
// Budget of the seam package itself (dependencies not counted): the prebuilt addon (~2 MB, with the
// CUDA PTX and cubin), the ESM and CJS bundles (~1 MB), the Rust and CUDA sources for builds from
// source (~0.5 MB) and the bundled example (~3.8 MB: a trained ResNet20 and 6,000 Fashion-MNIST
// images). About 25% over today's size, so an accidental file (a build folder, test data) fails it.
const BUDGET = { packedBytes: 6_000_000, unpackedBytes: 9_000_000 };
const TOOLCHAIN = ['cargo', 'rustc', 'nvcc'];

const API_CHECK = `import {
  Adam, backward, buildModel, Conv2d, cudaStatus, evalLoader, loadModel, nativeInfo, openData, ops, planModel, reengineer, Sequential, Tensor,
  type CudaStatus, type SearchOptions, type SearchResult, type TargetProblem,
} from 'seam';
const x: Tensor = Tensor.zeros([2, 3]);
const y: Tensor = ops.relu(x);
const opts: SearchOptions = { epochs: 1, lrMask: 0.05, alpha: 1 };
const search: (...a: Parameters<typeof reengineer>) => Promise<SearchResult> = reengineer;
const status: CudaStatus = cudaStatus();
const simd: string = nativeInfo().simd;
const net = new Sequential(new Conv2d(1, 4, 3));
const opt = new Adam(net.parameters());
export const used = [y, opts, search, status, simd, opt, backward, buildModel, evalLoader, loadModel, openData, planModel];
export type Problem = TargetProblem;
// @ts-expect-error a Tensor is not a number
export const wrong: number = Tensor.zeros([1]);
`;

const log = (s) => console.error(`check-package: ${s}`);
const fail = (s) => {
  console.error(`check-package: FAILED: ${s}`);
  process.exit(1);
};

/** Runs a command; its stdout, or a failure with its output. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\n${r.stdout ?? ''}${r.stderr ?? r.error ?? ''}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** PATH without cargo, rustc and nvcc: every folder holding one is replaced by a folder of links to its
 *  other entries. */
function pathWithoutToolchain(scratch) {
  return (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir, i) => {
    if (!TOOLCHAIN.some((t) => existsSync(join(dir, t)))) return dir;
    const mirror = join(scratch, `path${i}`);
    mkdirSync(mirror);
    for (const f of readdirSync(dir)) if (!TOOLCHAIN.includes(f)) symlinkSync(join(dir, f), join(mirror, f));
    return mirror;
  }).join(delimiter);
}

function dirBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

/** The fenced blocks of the README section "Use it as a dependency", in order. */
function readmeBlocks() {
  const md = readFileSync(join(root, 'README.md'), 'utf8');
  const section = /^## Use it as a dependency\n([\s\S]*?)(?=^## )/m.exec(md)?.[1];
  if (!section) fail('README.md has no "## Use it as a dependency" section');
  return [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```/gm)].map((m) => ({ lang: m[1], code: m[2] }));
}

const scratch = mkdtempSync(join(tmpdir(), 'seam-package-'));
try {
  // 1. pack (prepare bundles dist/, prepack builds the prebuild)
  log('npm pack');
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: root }).stdout)[0];
  const files = new Set(packed.files.map((f) => f.path));
  for (const f of ['prebuilds/linux-x64/seam.napi.glibc.node', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/cli.js', 'bin/seam.js',
    'scripts/build-native.mjs', 'Cargo.toml', 'examples/fmnist/fmnist_resnet20.pt']) {
    if (!files.has(f)) fail(`the tarball lacks ${f}`);
  }
  const stray = [...files].filter((f) => /^(build|target|test|src|bench|node_modules)\//.test(f));
  if (stray.length) fail(`the tarball holds files a user does not need: ${stray.slice(0, 5).join(', ')}`);

  // 2. install into an empty project, no Rust or CUDA toolchain on PATH
  const env = { ...process.env, PATH: pathWithoutToolchain(scratch) };
  for (const t of TOOLCHAIN) if (spawnSync('sh', ['-c', `command -v ${t}`], { env }).status === 0) fail(`${t} is still on PATH`);
  const project = join(scratch, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-seam', private: true, type: 'module' }, null, 2));
  log(`npm install ${packed.filename} (PATH without ${TOOLCHAIN.join(', ')})`);
  const install = run('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', join(scratch, packed.filename)], { cwd: project, env });
  const said = `${install.stdout}${install.stderr}`.split('\n').find((l) => l.startsWith('seam: '));
  log(`install said: ${said ?? '(nothing)'}`);
  if (!said?.includes('using the prebuilt native addon')) fail('the install did not use the prebuilt addon');
  const pkgDir = join(project, 'node_modules', 'seam');
  if (existsSync(join(pkgDir, 'build'))) fail('the install built the addon from source');
  const node = (args, extra = {}) => run(process.execPath, args, { cwd: project, env, ...extra }).stdout;

  // 3. ESM import and CommonJS require give the same API, with the addon loaded
  const probe = "console.log(JSON.stringify({ names: Object.keys(s).sort(), simd: s.nativeInfo().simd }))";
  const esm = JSON.parse(node(['--input-type=module', '-e', `import * as s from 'seam'; ${probe}`]));
  const cjs = JSON.parse(node(['-e', `const s = require('seam'); ${probe}`]));
  const expected = Object.keys(await import(pathToFileURL(join(root, 'dist', 'index.js')).href)).sort();
  if (JSON.stringify(esm.names) !== JSON.stringify(expected)) fail(`ESM exports differ from the build's: ${esm.names.length} vs ${expected.length}`);
  if (JSON.stringify(cjs.names) !== JSON.stringify(expected)) fail(`CommonJS exports differ: ${cjs.names.length} vs ${expected.length}`);
  log(`import and require: ${expected.length} exports, ${esm.simd} kernels`);

  // 4. seam info names the prebuild
  const info = JSON.parse(run(join(project, 'node_modules', '.bin', 'seam'), ['info', '--json'], { cwd: project, env }).stdout);
  if (info.addon !== 'prebuild' || !info.path.includes(join('node_modules', 'seam', 'prebuilds'))) fail(`seam info: ${JSON.stringify(info)}`);
  log(`seam info: ${info.addon} ${info.path}, ${info.simd}`);

  // 5. the README section, as written: shell blocks run with bash (the install line is what step 2
  // did), TypeScript blocks typecheck against the shipped types and then run
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')], skipLibCheck: false },
  }, null, 2));
  // a file using more of the public API: it must typecheck, and a wrong use must not (the types are real)
  writeFileSync(join(project, 'api.ts'), API_CHECK);
  readmeBlocks().forEach(({ lang, code }, i) => {
    if (lang === 'sh') {
      const script = code.split('\n').filter((l) => !/^npm install seam\b/.test(l)).join('\n');
      log(`README block ${i + 1} (sh)`);
      process.stderr.write(run('bash', ['-euo', 'pipefail', '-c', script], { cwd: project, env }).stdout);
    } else if (lang === 'ts') {
      const file = `readme${i + 1}`;
      writeFileSync(join(project, `${file}.ts`), code);
      log(`README block ${i + 1} (ts): typecheck, compile, run`);
      node([tsc, '-p', '.']);
      process.stderr.write(node([join('out', `${file}.js`)]));
    }
  });

  const installed = dirBytes(pkgDir);
  const all = dirBytes(join(project, 'node_modules'));
  const sizes = { packed_bytes: packed.size, unpacked_bytes: packed.unpackedSize, installed_bytes: installed, installed_with_dependencies_bytes: all };
  console.log(JSON.stringify(sizes));
  if (packed.size > BUDGET.packedBytes) fail(`packed ${packed.size} bytes, budget ${BUDGET.packedBytes}`);
  if (packed.unpackedSize > BUDGET.unpackedBytes) fail(`unpacked ${packed.unpackedSize} bytes, budget ${BUDGET.unpackedBytes}`);
  log(`passed: packed ${(packed.size / 1e6).toFixed(2)} MB (budget ${BUDGET.packedBytes / 1e6}), unpacked ${(packed.unpackedSize / 1e6).toFixed(2)} MB ` +
    `(budget ${BUDGET.unpackedBytes / 1e6}), installed with dependencies ${(all / 1e6).toFixed(1)} MB`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
