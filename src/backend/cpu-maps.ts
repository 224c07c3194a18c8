// CPU kernels of the elementwise maps imported graphs use (activations, Sub/Div/Pow/Max/Min/PRelu),
// in JS: each loop runs over plain typed arrays with the kind chosen once outside it. Values are
// computed in float64 (JS numbers) and stored as float32.
import type { BinaryKind, UnaryKind } from './kernels.js';

type F32 = Float32Array;

export function checkLengths(op: string, n: number, ...arrays: (F32 | Int32Array | null)[]): void {
  for (const a of arrays) if (a && a.length !== n) throw new Error(`${op}: buffer of ${a.length} elements where ${n} are expected`);
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const GELU_TANH_C = Math.sqrt(2 / Math.PI);

/** erf in float64 to ~1e-15: the all-positive series erf(x) = 2/sqrt(pi) e^(-x^2) sum 2^n x^(2n+1) / (2n+1)!!
 *  below 3, the continued fraction of erfc above (JS has no Math.erf). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (Number.isNaN(x)) return NaN;
  if (ax >= 6) return Math.sign(x);
  if (ax < 3) {
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n = 1; term > 1e-17 * sum; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
    }
    return Math.sign(x) * TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  }
  // erfc(x) = e^(-x^2)/sqrt(pi) * 1 / (x + (1/2) / (x + 1 / (x + (3/2) / (x + 2 / (x + ...))))) by Lentz's method
  const tiny = 1e-300;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let k = 1; k < 200; k++) {
    const a = k / 2;
    d = ax + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = ax + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f);
}

function unaryFn(kind: UnaryKind, a: number, b: number): (x: number) => number {
  switch (kind) {
    case 'tanh': return Math.tanh;
    case 'erf': return erf;
    case 'sqrt': return Math.sqrt;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'neg': return (x) => -x;
    case 'abs': return Math.abs;
    case 'reciprocal': return (x) => 1 / x;
    case 'leakyRelu': return (x) => (x >= 0 ? x : a * x);
    case 'elu': return (x) => (x > 0 ? x : a * Math.expm1(x));
    case 'hardSigmoid': return (x) => Math.max(0, Math.min(1, a * x + b));
    case 'hardSwish': return (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5));
    case 'gelu': return (x) => 0.5 * x * (1 + erf(x * SQRT1_2));
    case 'geluTanh': return (x) => 0.5 * x * (1 + Math.tanh(GELU_TANH_C * (x + 0.044715 * x * x * x)));
  }
}

/** d kind(x) / dx from x and y = kind(x). */
function unaryDerivative(kind: UnaryKind, a: number, b: number): (x: number, y: number) => number {
  switch (kind) {
    case 'tanh': return (_x, y) => 1 - y * y;
    case 'erf': return (x) => TWO_OVER_SQRT_PI * Math.exp(-x * x);
    case 'sqrt': return (_x, y) => 0.5 / y;
    case 'exp': return (_x, y) => y;
    case 'log': return (x) => 1 / x;
    case 'neg': return () => -1;
    case 'abs': return (x) => Math.sign(x);
    case 'reciprocal': return (_x, y) => -y * y;
    case 'leakyRelu': return (x) => (x > 0 ? 1 : a);
    case 'elu': return (x, y) => (x > 0 ? 1 : y + a);
    case 'hardSigmoid': return (x) => {
      const v = a * x + b;
      return v > 0 && v < 1 ? a : 0;
    };
    case 'hardSwish': return (x) => (x < -3 ? 0 : x > 3 ? 1 : x / 3 + 0.5);
    case 'gelu': return (x) => 0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case 'geluTanh': return (x) => {
      const t = Math.tanh(GELU_TANH_C * (x + 0.044715 * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_TANH_C * (1 + 3 * 0.044715 * x * x);
    };
  }
}

function binaryFn(kind: BinaryKind): (a: number, b: number) => number {
  switch (kind) {
    case 'sub': return (a, b) => a - b;
    case 'div': return (a, b) => a / b;
    case 'pow': return Math.pow;
    case 'max': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
    case 'min': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));
    case 'prelu': return (x, s) => (x >= 0 ? x : x * s);
  }
}

/** [d/da, d/db] of kind at (a, b) with out = kind(a, b); ties of max/min split the gradient as torch does. */
function binaryPartials(kind: BinaryKind): (a: number, b: number, out: number) => [number, number] {
  switch (kind) {
    case 'sub': return () => [1, -1];
    case 'div': return (_a, b, out) => [1 / b, -out / b];
    case 'pow': return (a, b, out) => [b === 0 ? 0 : b * Math.pow(a, b - 1), a > 0 ? out * Math.log(a) : 0];
    case 'max': return (a, b) => (a > b ? [1, 0] : a < b ? [0, 1] : [0.5, 0.5]);
    case 'min': return (a, b) => (a < b ? [1, 0] : a > b ? [0, 1] : [0.5, 0.5]);
    case 'prelu': return (x, s) => (x > 0 ? [1, 0] : [s, x]);
  }
}

export const mapKernels = {
  unary(kind: UnaryKind, x: F32, y: F32, a: number, b: number): void {
    checkLengths(`unary ${kind}`, x.length, y);
    const f = unaryFn(kind, a, b);
    for (let i = 0; i < x.length; i++) y[i] = f(x[i]);
  },
  unaryBackward(kind: UnaryKind, x: F32, y: F32, gy: F32, gx: F32, a: number, b: number): void {
    checkLengths(`unary ${kind} backward`, x.length, y, gy, gx);
    const d = unaryDerivative(kind, a, b);
    for (let i = 0; i < x.length; i++) gx[i] = gy[i] * d(x[i], y[i]);
  },
  binary(kind: BinaryKind, a: F32, b: F32, out: F32): void {
    checkLengths(`binary ${kind}`, a.length, b, out);
    const f = binaryFn(kind);
    for (let i = 0; i < a.length; i++) out[i] = f(a[i], b[i]);
  },
  binaryBackward(kind: BinaryKind, a: F32, b: F32, out: F32, g: F32, ga: F32 | null, gb: F32 | null): void {
    checkLengths(`binary ${kind} backward`, a.length, b, out, g, ga, gb);
    const d = binaryPartials(kind);
    for (let i = 0; i < a.length; i++) {
      const [da, db] = d(a[i], b[i], out[i]);
      if (ga) ga[i] = g[i] * da;
      if (gb) gb[i] = g[i] * db;
    }
  },
};
