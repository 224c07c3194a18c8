// Dense vs sparse training convolutions per layer shape (ResNet20 and VGG16-BN at batch 64):
// `node --import tsx bench/tools/sparse-train.ts [resnet20|vgg16|all] [reps]`. For each distinct
// 3x3 / 1x1 conv shape and kept fraction, times the forward and the data gradient with the sparse
// path off and forced on (packing included), interleaved, and prints the ratio and the crossover
// it implies; choose.rs's sparse_train_crossover is set from these.
import { setSparseConvMode } from '../../src/backend/conv-stats.js';
import { native } from '../../src/native.js';
import { Rng } from '../../src/util/rng.js';
import { median } from '../timing.js';

type P = [number, number, number, number, number, number, number, number, number, number, number, number, number, number];
const conv = (n: number, c: number, h: number, o: number, k: number, s: number): P => [n, c, h, h, o, k, k, s, s, k === 3 ? 1 : 0, k === 3 ? 1 : 0, 1, 1, 1];
const SHAPES: Record<string, P[]> = {
  fmnist: [conv(64, 16, 28, 16, 3, 1), conv(64, 16, 28, 32, 3, 2), conv(64, 32, 14, 32, 3, 1), conv(64, 32, 14, 64, 3, 2),
    conv(64, 64, 7, 64, 3, 1)],
  resnet20: [conv(64, 3, 32, 16, 3, 1), conv(64, 16, 32, 16, 3, 1), conv(64, 16, 32, 32, 3, 2), conv(64, 32, 16, 32, 3, 1),
    conv(64, 32, 16, 64, 3, 2), conv(64, 64, 8, 64, 3, 1)],
  vgg16: [conv(64, 3, 32, 64, 3, 1), conv(64, 64, 32, 64, 3, 1), conv(64, 64, 16, 128, 3, 1), conv(64, 128, 16, 128, 3, 1),
    conv(64, 128, 8, 256, 3, 1), conv(64, 256, 8, 256, 3, 1), conv(64, 256, 4, 512, 3, 1), conv(64, 512, 4, 512, 3, 1),
    conv(64, 512, 2, 512, 3, 1)],
};
const which = process.argv[2] ?? 'all';
const reps = Number(process.argv[3] ?? 7);
const densities = (process.env.DENSITIES ?? '0.05,0.1,0.15,0.2,0.3').split(',').map(Number);
const rng = new Rng(1);
const randn = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());

/** Median wall ms of `reps` calls after one warm-up; MIN=1 takes the fastest instead (the call
 *  least disturbed by other processes on a shared machine). */
function timeMs(run: () => void): number {
  if (process.env.CPU_TIME) return cpuMs(run);
  run();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    t.push(performance.now() - t0);
  }
  return process.env.MIN ? Math.min(...t) : median(t);
}

for (const arch of which === 'all' ? Object.keys(SHAPES) : [which]) {
  for (const p of SHAPES[arch]) {
    const [n, c, h, w, o, kh, kw, sh] = p;
    const oh = Math.floor((h + 2 * p[9] - kh) / sh) + 1;
    const x = randn(n * c * h * w);
    const gy = randn(n * o * oh * oh);
    const y = new Float32Array(n * o * oh * oh);
    const gx = new Float32Array(n * c * h * w);
    const params = Int32Array.from(p);
    const cells: string[] = [];
    let crossF = 0;
    let crossD = 0;
    for (const d of densities) {
      const wt = randn(o * c * kh * kw).map((v) => (rng.nextFloat() < d ? v : 0));
      const t = (mode: 'off' | 'on', f: () => void): number => {
        setSparseConvMode(mode);
        return timeMs(f);
      };
      const fwd = () => native.conv2dForward(x, wt, null, y, params);
      const dgr = () => native.conv2dBackwardData(gy, wt, gx, params);
      const [fOff, fOn, dOff, dOn] = [t('off', fwd), t('on', fwd), t('off', dgr), t('on', dgr)];
      if (fOn < fOff) crossF = d;
      if (dOn < dOff) crossD = d;
        cells.push(`${d}: f ${(fOn / fOff).toFixed(2)} d ${(dOn / dOff).toFixed(2)}`);
      if (d === densities[0]) cells.unshift(`dense f ${fOff.toFixed(2)} d ${dOff.toFixed(2)} ms`);
    }
    setSparseConvMode('auto');
    console.log(`${arch} ${p.slice(0, 9).join(',')}: sparse/dense ${cells.join(' | ')}  -> sparse wins up to f ${crossF} d ${crossD}`);
  }
}

/** CPU ms per call (user + system, all threads): steadier than wall time on a shared machine. */
function cpuMs(run: () => void): number {
  run();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    run();
    const c = process.cpuUsage(c0);
    t.push((c.user + c.system) / 1000);
  }
  return median(t);
}
