#!/usr/bin/env node
// The native addon: built from source (with @napi-rs/cli when it is installed, as in a development
// checkout; plain cargo otherwise, as when the package is installed from the registry), or the
// prebuilt one shipped in the package.
//   node scripts/build-native.mjs              build from source (release) into build/Release/seam.node
//   node scripts/build-native.mjs --prebuild   build the portable prebuild into prebuilds/<platform>-<arch>/
//   node scripts/build-native.mjs --if-missing npm's install step: use a prebuild that loads here, else a
//                                              local build, else build from source; says which in one line
// Building from source is forced by SEAM_BUILD_FROM_SOURCE=1 or `npm install --build-from-source`.
// node-gyp-build (src/native.ts) loads build/Release/*.node when present, else the prebuild.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const root = join(import.meta.dirname, '..');
const localDir = join(root, 'build', 'Release');
const tuple = `${process.platform}-${process.arch}`;
const prebuildDir = join(root, 'prebuilds', tuple);
// node-gyp-build's tags: any N-API version of node, glibc (it skips the file on musl, where it cannot load)
const PREBUILD_NAME = 'seam.napi.glibc.node';
const say = (line) => console.error(`seam: ${line}`);
const rel = (p) => relative(root, p);

/** The .node files of a folder. */
const addons = (dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.node')).map((f) => join(dir, f)) : []);

/** Loads an addon in a child process (a bad binary must not take this process down): its info, or why it failed. */
function probe(file) {
  const code = `const a = require(${JSON.stringify(file)}); ` +
    "const cudaBuild = a.cudaAvailable ? JSON.parse(a.cudaAvailable()).build : 'no CUDA binding'; " +
    'console.log(JSON.stringify({ ...JSON.parse(a.info()), cudaBuild }));';
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  if (r.status === 0) return { ok: true, info: JSON.parse(r.stdout.trim().split('\n').pop()) };
  return { ok: false, why: (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').find((l) => /Error/.test(l)) ?? 'it does not load' };
}

/** Builds the release cdylib into `out`: `napi build` (the project's build driver) when
 *  @napi-rs/cli is installed, else cargo. Never adds target-cpu flags: the kernels pick AVX-512 /
 *  AVX2 / portable code at run time, so the library runs on any x86-64 CPU. */
function compile(out) {
  const napi = join(root, 'node_modules', '.bin', 'napi');
  mkdirSync(dirname(out), { recursive: true });
  if (existsSync(napi)) {
    // writes <napi.binaryName>.node (package.json) into the output folder
    execFileSync(napi, ['build', '--release', '--output-dir', dirname(out)], { cwd: root, stdio: 'inherit' });
    const built = join(dirname(out), 'seam.node');
    if (built !== out) renameSync(built, out);
    return out;
  }
  const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
  if (cargo.error || cargo.status !== 0) {
    console.error(
      'seam: cannot build the native addon because `cargo` (the Rust toolchain) was not found.\n' +
        '  Install Rust (https://rustup.rs, or `apt-get install cargo` on Debian) and run `npm run build:native`.',
    );
    process.exit(1);
  }
  execFileSync('cargo', ['build', '--release', '--lib'], { cwd: root, stdio: 'inherit' });
  const ext = process.platform === 'darwin' ? 'dylib' : process.platform === 'win32' ? 'dll' : 'so';
  copyFileSync(join(root, 'target', 'release', `${process.platform === 'win32' ? '' : 'lib'}seam_native.${ext}`), out);
  return out;
}

function buildLocal() {
  return compile(join(localDir, 'seam.node'));
}

function buildPrebuild() {
  for (const v of ['RUSTFLAGS', 'CARGO_ENCODED_RUSTFLAGS']) {
    if (/target-cpu|target-feature/.test(process.env[v] ?? '')) throw new Error(`seam prebuild: ${v} sets ${process.env[v]}; a prebuild must run on any CPU of its platform`);
  }
  for (const f of ['.cargo/config', '.cargo/config.toml']) {
    const p = join(root, f);
    if (existsSync(p) && /target-cpu|target-feature/.test(readFileSync(p, 'utf8'))) throw new Error(`seam prebuild: ${f} sets target-cpu or target-feature`);
  }
  const out = compile(join(prebuildDir, PREBUILD_NAME));
  // symbols and debug info are not needed to run (the N-API entry point is a dynamic symbol, kept)
  if (process.platform === 'linux' && spawnSync('strip', ['--strip-unneeded', out]).status !== 0) say('strip failed or is missing; the prebuild keeps its symbols');
  const p = probe(out);
  if (!p.ok) throw new Error(`seam prebuild: ${rel(out)} does not load: ${p.why}`);
  const cuda = p.info.cudaBuild ? `no CUDA kernels (${p.info.cudaBuild})` : 'CUDA kernels embedded (PTX compute_80, cubin sm_90)';
  say(`prebuild ${rel(out)} (${(readFileSync(out).length / 2 ** 20).toFixed(1)} MiB), ${cuda}; on this CPU it dispatches to ${p.info.simd}`);
}

/** npm's install step. Inside node_modules, a build from source leaves no cargo target folder behind. */
function install() {
  const build = () => {
    buildLocal();
    if (root.split(sep).includes('node_modules')) rmSync(join(root, 'target'), { recursive: true, force: true });
  };
  const fromSource = /^(1|true)$/i.test(process.env.SEAM_BUILD_FROM_SOURCE ?? '') || process.env.npm_config_build_from_source === 'true';
  if (fromSource) {
    say('building the native addon from source (asked by SEAM_BUILD_FROM_SOURCE or --build-from-source)');
    build();
    return;
  }
  // node-gyp-build loads a local build first, so one that loads is what runs
  const local = addons(localDir)[0];
  if (local && probe(local).ok) return say(`using the local build ${rel(local)}`);
  // the prebuild is glibc's; node-gyp-build would not pick it on musl (Alpine) even if it loaded
  const prebuild = existsSync('/etc/alpine-release') ? undefined : addons(prebuildDir)[0];
  if (prebuild) {
    const p = probe(prebuild);
    if (p.ok) return say(`using the prebuilt native addon ${rel(prebuild)} (${p.info.simd} kernels on this CPU)`);
    say(`the prebuilt native addon does not load here (${p.why}); building from source`);
  } else {
    const have = existsSync(join(root, 'prebuilds')) ? readdirSync(join(root, 'prebuilds')).join(', ') || 'none' : 'none';
    say(`no prebuilt native addon for ${tuple} (prebuilds: ${have}); building from source`);
  }
  build();
}

try {
  if (process.argv.includes('--prebuild')) buildPrebuild();
  else if (process.argv.includes('--if-missing')) install();
  else say(`built ${rel(buildLocal())}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
