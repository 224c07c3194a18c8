// Max relative difference of conv forward / backward-data / backward-weight between this build and
// another build of the addon: `node --import tsx bench/tools/conv-diff.ts /path/to/other.node`.
import { createRequire } from 'node:module';
import { native } from '../../src/native.js';
const base = createRequire(import.meta.url)(process.argv[2]);
const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const cases = [[16,512,2,512,3,1,1,1],[16,512,4,512,3,1,1,1],[16,256,4,512,3,1,1,1],[3,64,2,100,3,1,1,1],[5,40,3,64,3,2,1,1],[64,16,32,32,3,2,1,1],[64,16,32,32,1,2,0,1],[3,5,19,7,3,2,1,1],[2,4,17,6,5,2,2,2],[2,3,15,4,1,2,0,1],[2,8,9,8,3,2,0,1],[64,16,32,16,3,1,1,1],[16,16,32,16,3,1,1,1],[64,32,16,32,3,1,1,1],[16,64,32,64,3,1,1,1],[3,5,20,7,3,1,2,1],[2,4,17,6,5,1,2,2],[4,6,16,9,3,1,1,3],[2,3,32,16,3,1,1,1]];
for (const [N, C, H, O, K, S, P, G] of cases) {
  const OH = Math.floor((H + 2 * P - K) / S) + 1;
  const p = Int32Array.from([N, C, H, H, O, K, K, S, S, P, P, 1, 1, G]);
  const x = rand(N * C * H * H), w = rand(O * (C / G) * K * K), b = rand(O), gy = rand(N * O * OH * OH);
  const y1 = new Float32Array(N * O * OH * OH), y2 = y1.slice();
  native.conv2dForward(x, w, b, y1, p); base.conv2dForward(x, w, b, y2, p);
  const g1 = new Float32Array(x.length), g2 = g1.slice();
  native.conv2dBackwardData(gy, w, g1, p); base.conv2dBackwardData(gy, w, g2, p);
  const w1 = new Float32Array(w.length), w2 = w1.slice();
  native.conv2dBackwardWeight(x, gy, w1, null, p); base.conv2dBackwardWeight(x, gy, w2, null, p);
  const rel = (a: Float32Array, c: Float32Array) => { let m = 0, s = 0; for (let i = 0; i < a.length; i++) { m = Math.max(m, Math.abs(a[i] - c[i])); s = Math.max(s, Math.abs(c[i])); } return m / s; };
  console.log(N, C, H, O, K, S, P, G, 'fwd', rel(y1, y2).toExponential(1), 'bwdD', rel(g1, g2).toExponential(1), 'bwdW', rel(w1, w2).toExponential(1));
}
