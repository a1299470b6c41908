/**
 * Synthetic Δk curves with known laws for the rate and sufficiency tests, built through
 * `curveFromDifferences` so that they have the engine's layout: D [T, n - 1] row-major,
 * D[t, j] = L_{j+2}(w_t) - L_{j+1}(w_t), k = 2..n.
 */
import { curveFromDifferences, type DeltaCurve } from "../src/landscape/delta.ts";

/**
 * A fast seeded uniform generator for test data (mulberry32, values in (0, 1]): the curves
 * here need millions of draws, ~20x faster than PhiloxStream on the host, and no GPU parity.
 */
export function uniforms(seed: number): () => number {
  let state = (seed * 0x9E3779B9) >>> 0;
  return () => {
    state = (state + 0x6D2B79F5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 2 ** 32;
  };
}

/** n standard normals (Box-Muller), reproducible by seed. */
export function normals(n: number, seed: number): Float64Array {
  const next = uniforms(seed), out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next())), a = 2 * Math.PI * next();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

/**
 * D[t, k] ~ N(0, C k^-p), independent over t and k, for k = 2..n: E[Δ_k] = C k^-p exactly, and
 * each Δ_k is C k^-p times a chi-square with T degrees of freedom over T.
 */
export function powerLawCurve(
  o: { points: number; n: number; C: number; p: number; seed: number },
): DeltaCurve {
  const m = o.n - 1, z = normals(o.points * m, o.seed), d = new Float32Array(o.points * m);
  for (let j = 0; j < m; j++) {
    const scale = Math.sqrt(o.C * (j + 2) ** -o.p);
    for (let t = 0; t < o.points; t++) d[t * m + j] = scale * z[t * m + j];
  }
  return curveFromDifferences(d, o.points);
}

/**
 * A noiseless curve: `points` identical rows D = sqrt(f(k)) (float32), and Δ_k = f(k) exactly
 * in float64 (the float32 D reproduce it to 2^-23).
 */
export function exactCurve(n: number, f: (k: number) => number, points: number): DeltaCurve {
  const m = n - 1, d = new Float32Array(points * m), delta = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    delta[j] = f(j + 2);
    for (let t = 0; t < points; t++) d[t * m + j] = Math.sqrt(delta[j]);
  }
  return { ...curveFromDifferences(d, points), delta };
}

/**
 * The curve of a T x n loss matrix of independent uniform losses in (0, 1], differences in the
 * cancellation-safe form D = (l_{k+1} - L_k) / (k + 1) as the GPU computes them. Its expectation
 * is Δ_k = (1/12) / ((k - 1) k).
 */
export function iidLossCurve(points: number, n: number, seed: number): DeltaCurve {
  const m = n - 1, d = new Float32Array(points * m);
  for (let t = 0; t < points; t++) {
    const next = uniforms(seed * 100_003 + t);
    let sum = next();
    for (let k = 1; k < n; k++) {
      const l = next(), mean = sum / k;
      d[t * m + k - 1] = (l - mean) / (k + 1);
      sum += l;
    }
  }
  return curveFromDifferences(d, points);
}
