/**
 * Float64 references for the curvature tests: exact Hessians of linear least squares, and
 * gradients (analytic) and Hessian-vector products (float64 central differences of them) of a
 * one-hidden-layer ReLU MLP with mean cross-entropy. Parameters are in the model's padded
 * flat layout, located by the ParamStore offsets.
 */
import type { Sequential } from "../../src/nn/sequential.ts";
import { PhiloxStream } from "../../src/rng/philox.ts";

/** Where a Dense(in -> 1) model's weight and bias sit in the flat vector. */
export interface LinearLayout {
  /** Offsets of the in weights, then the bias (the augmented coordinate). */
  offsets: number[];
  /** Padded length of the flat vector. */
  length: number;
}

/** The layout of a `[dense in -> 1]` model. */
export function linearLayout(model: Sequential): LinearLayout {
  const [w, b] = model.params.entries;
  const inF = w.spec.shape[1];
  return {
    offsets: [...Array.from({ length: inF }, (_, j) => w.binding.offset + j), b.binding.offset],
    length: model.params.values.size,
  };
}

/** Inputs with a trailing 1 (the bias coordinate), one row per sample. */
export function augment(xs: ArrayLike<number>, n: number): Float64Array[] {
  const inF = xs.length / n;
  return Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(inF + 1);
    for (let j = 0; j < inF; j++) row[j] = xs[i * inF + j];
    row[inF] = 1;
    return row;
  });
}

/** H_S = mean over samples `idx` of x̃ x̃ᵀ (the Hessian of the mean of 1/2 (w·x̃ - y)²). */
export function lsqHessian(x: Float64Array[], idx: number[]): Float64Array[] {
  const d = x[0].length;
  const h = Array.from({ length: d }, () => new Float64Array(d));
  for (const i of idx) {
    for (let p = 0; p < d; p++) {
      for (let q = 0; q < d; q++) h[p][q] += x[i][p] * x[i][q] / idx.length;
    }
  }
  return h;
}

/** A_k = H^(k+1) - H^(k) for least squares (samples 0..k vs 0..k-1). */
export function lsqA(x: Float64Array[], k: number): Float64Array[] {
  const hk1 = lsqHessian(x, Array.from({ length: k + 1 }, (_, i) => i));
  const hk = lsqHessian(x, Array.from({ length: k }, (_, i) => i));
  return hk1.map((row, p) => row.map((v, q) => v - hk[p][q]));
}

/** M v for a dense matrix. */
export function matVec(m: Float64Array[], v: ArrayLike<number>): Float64Array {
  return Float64Array.from(m, (row) => row.reduce((s, x, q) => s + x * v[q], 0));
}

/** Tr M and Tr M² of a symmetric matrix. */
export function traces(m: Float64Array[]): { trace: number; traceOfSquare: number } {
  let trace = 0, traceOfSquare = 0;
  m.forEach((row, p) => {
    trace += row[p];
    for (const v of row) traceOfSquare += v * v;
  });
  return { trace, traceOfSquare };
}

/**
 * a, c, |c|², Tr A_k and Tr A_k² of least squares at w (augmented, float64):
 * l_i = 1/2 (w·x̃_i - y_i)².
 */
export function lsqTerms(
  x: Float64Array[],
  y: ArrayLike<number>,
  w: ArrayLike<number>,
  k: number,
): { a: number; c: Float64Array; cNormSquared: number; trace: number; traceOfSquare: number } {
  const d = w.length;
  const r = x.map((xi, i) => xi.reduce((s, v, j) => s + v * w[j], 0) - y[i]);
  const mean = (f: (i: number) => number, m: number) => {
    let s = 0;
    for (let i = 0; i < m; i++) s += f(i);
    return s / m;
  };
  const a = mean((i) => 0.5 * r[i] * r[i], k + 1) - mean((i) => 0.5 * r[i] * r[i], k);
  const c = Float64Array.from(
    { length: d },
    (_, j) => mean((i) => r[i] * x[i][j], k + 1) - mean((i) => r[i] * x[i][j], k),
  );
  const cNormSquared = c.reduce((s, v) => s + v * v, 0);
  return { a, c, cNormSquared, ...traces(lsqA(x, k)) };
}

/**
 * E[D²] for D(z) = a + cᵀz + zᵀAz / 2, z ~ N(0, σ² I), by float64 Monte Carlo over `points`
 * draws (Box-Muller on a Philox stream): an estimate independent of the closed form, with its
 * standard error.
 */
export function quadraticMonteCarlo(
  a: number,
  c: ArrayLike<number>,
  A: Float64Array[],
  sigma: number,
  points: number,
  seed: number,
): { mean: number; se: number } {
  const rng = new PhiloxStream(seed, 77, 97);
  const d = c.length;
  const z = new Float64Array(d);
  let s1 = 0, s2 = 0;
  for (let t = 0; t < points; t++) {
    for (let j = 0; j < d; j++) {
      z[j] = sigma * Math.sqrt(-2 * Math.log(rng.next())) * Math.cos(2 * Math.PI * rng.next());
    }
    let D = a;
    for (let p = 0; p < d; p++) {
      D += c[p] * z[p];
      for (let q = 0; q < d; q++) D += 0.5 * z[p] * A[p][q] * z[q];
    }
    s1 += D * D;
    s2 += D * D * D * D;
  }
  const mean = s1 / points;
  return { mean, se: Math.sqrt((s2 / points - mean * mean) / (points - 1)) };
}

/** Where a flatten -> dense(D, H) -> relu -> dense(H, C) model's parameters sit. */
export interface MlpLayout {
  /** Input features. */
  D: number;
  /** Hidden units. */
  H: number;
  /** Classes. */
  C: number;
  /** Offsets of W1 [H, D], b1 [H], W2 [C, H], b2 [C]. */
  w1: number;
  /** Offset of b1. */
  b1: number;
  /** Offset of W2. */
  w2: number;
  /** Offset of b2. */
  b2: number;
  /** Padded length of the flat vector. */
  length: number;
}

/** The layout of `mlp({ layers: 1 })`. */
export function mlpLayout(model: Sequential): MlpLayout {
  const e = model.params.entries;
  if (e.length !== 4) throw new Error("the reference MLP has one hidden layer");
  const [H, D] = e[0].spec.shape;
  return {
    D,
    H,
    C: e[2].spec.shape[0],
    w1: e[0].binding.offset,
    b1: e[1].binding.offset,
    w2: e[2].binding.offset,
    b2: e[3].binding.offset,
    length: model.params.values.size,
  };
}

/** Float64 gradient of the mean cross-entropy over samples `idx` (ReLU'(0) = 0, as the engine). */
export function mlpGradient(
  L: MlpLayout,
  w: ArrayLike<number>,
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  idx: number[],
): Float64Array {
  const { D, H, C } = L;
  const g = new Float64Array(L.length);
  const z = new Float64Array(H), h = new Float64Array(H), p = new Float64Array(C);
  const B = idx.length;
  for (const s of idx) {
    for (let j = 0; j < H; j++) {
      let a = w[L.b1 + j];
      for (let i = 0; i < D; i++) a += w[L.w1 + j * D + i] * xs[s * D + i];
      z[j] = a;
      h[j] = Math.max(0, a);
    }
    let m = -Infinity;
    for (let c = 0; c < C; c++) {
      let a = w[L.b2 + c];
      for (let j = 0; j < H; j++) a += w[L.w2 + c * H + j] * h[j];
      p[c] = a;
      m = Math.max(m, a);
    }
    let se = 0;
    for (let c = 0; c < C; c++) se += Math.exp(p[c] - m);
    for (let c = 0; c < C; c++) p[c] = Math.exp(p[c] - m) / se - (c === ys[s] ? 1 : 0);
    for (let c = 0; c < C; c++) {
      g[L.b2 + c] += p[c] / B;
      for (let j = 0; j < H; j++) g[L.w2 + c * H + j] += p[c] * h[j] / B;
    }
    for (let j = 0; j < H; j++) {
      if (z[j] <= 0) continue;
      let d = 0;
      for (let c = 0; c < C; c++) d += p[c] * w[L.w2 + c * H + j];
      g[L.b1 + j] += d / B;
      for (let i = 0; i < D; i++) g[L.w1 + j * D + i] += d * xs[s * D + i] / B;
    }
  }
  return g;
}

/**
 * Float64 Hv by central differences of the float64 gradient with step 1e-7 along v: float64
 * rounding gives ~1e-16 / 1e-7 = 1e-9 relative error, and a step this small moves a
 * pre-activation by ~1e-6, so crossing a ReLU kink is very unlikely (the tests would see it
 * as an O(1) mismatch).
 */
export function mlpHvp(
  L: MlpLayout,
  w: ArrayLike<number>,
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  idx: number[],
  v: ArrayLike<number>,
  eps = 1e-7,
): Float64Array {
  const wp = Float64Array.from(w, (x, i) => x + eps * v[i]);
  const wm = Float64Array.from(w, (x, i) => x - eps * v[i]);
  const gp = mlpGradient(L, wp, xs, ys, idx), gm = mlpGradient(L, wm, xs, ys, idx);
  return gp.map((x, i) => (x - gm[i]) / (2 * eps));
}
