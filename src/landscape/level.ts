/**
 * Weighted means of a Δk curve and of its two terms over a range of k, with standard errors over
 * the curve's independent draws (points, or antithetic pairs). Δ_k at neighbouring k shares its
 * points, so per-k standard errors cannot be combined as if independent; here every draw's own
 * mean over the range is formed first and the spread of those gives the error.
 *
 * The level of a curve, the mean of k² Δ_k over k >= 10 (C of Δ ≈ C / k²), compares curves
 * without picking one noisy k; the same mean over a window around one k says which term
 * dominates there.
 * @module
 */
import { type DeltaCurve, drawRows } from "./delta.ts";
import type { Estimate } from "./theory.ts";

/** Means of Δ and of its terms over a range of k. */
export interface TermMeans {
  /** First and last k averaged over. */
  kRange: [number, number];
  /** Mean of w(k) Δ_k. */
  delta: Estimate;
  /** Mean of w(k) a_k² (standard error 0 with one data order; NaN without terms). */
  data: Estimate;
  /** Mean of w(k) (Δ_k − a_k²) (NaN without terms). */
  landscape: Estimate;
  /**
   * Antithetic curves: the squared standard error of the landscape term (of Δ, without terms)
   * that plain points would give at the same number of points, over the pairs' (> 1 where pairs
   * win); null for plain points. The landscape term's, because that is what pairs act on: where
   * each pair has its own data order, the spread of a_k² over orders is the same per order
   * either way, and plain points have twice the orders.
   */
  varianceRatio: number | null;
}

/** Options of {@link termMeans}. */
export interface TermMeanOptions {
  /** First k averaged over (default the curve's first). */
  kFrom?: number;
  /** Last k averaged over (default the curve's last). */
  kTo?: number;
  /** Weight of each k (default 1). */
  weight?: (k: number) => number;
}

function estimate(sum: number, sum2: number, n: number): Estimate {
  const mean = sum / n;
  const variance = n > 1 ? Math.max(0, sum2 / n - mean * mean) * n / (n - 1) : NaN;
  return { value: mean, se: Math.sqrt(variance / n) };
}

/**
 * The weighted means of Δ_k, a_k² and the landscape term over k in [kFrom, kTo]. Given `out`
 * (one value per draw), it receives each draw's own mean of the landscape term (of Δ, without
 * terms): what heavy-tail statistics of the mean look at.
 * @param options The range of k and its weights (default: every k, equal weights).
 */
export function termMeans(
  curve: DeltaCurve,
  options?: TermMeanOptions,
  out?: Float64Array,
): TermMeans {
  options ??= {};
  const m = curve.k.length, points = curve.points, r = drawRows(curve.estimator);
  const kFrom = options.kFrom ?? curve.k[0], kTo = options.kTo ?? curve.k[m - 1];
  const weight = options.weight ?? (() => 1);
  const js: number[] = [];
  for (let j = 0; j < m; j++) if (curve.k[j] >= kFrom && curve.k[j] <= kTo) js.push(j);
  if (js.length === 0) {
    throw new RangeError(
      `no k of the curve (${curve.k[0]} to ${curve.k[m - 1]}) lies in [${kFrom}, ${kTo}]`,
    );
  }
  const w = js.map((j) => weight(curve.k[j]) / js.length);
  const d = curve.differences, center = curve.terms?.center;
  const a2 = (t: number, j: number) =>
    center ? (center.length === m ? center[j] : center[t * m + j]) ** 2 : NaN;
  const draws = points / r, perDraw = new Float64Array(draws);
  let x1 = 0, x2 = 0, y1 = 0, y2 = 0, a1 = 0, aa = 0, l1 = 0, l2 = 0;
  const plain = center ? (x: number, xa: number) => x - xa : (x: number) => x;
  for (let u = 0; u < draws; u++) {
    let y = 0, ya = 0;
    for (let i = 0; i < r; i++) {
      const t = u * r + i;
      let x = 0, xa = 0;
      for (let q = 0; q < js.length; q++) {
        x += w[q] * d[t * m + js[q]] ** 2;
        xa += w[q] * a2(t, js[q]);
      }
      const v = plain(x, xa);
      x1 += v;
      x2 += v * v;
      y += x / r;
      ya += xa / r;
    }
    y1 += y;
    y2 += y * y;
    a1 += ya;
    aa += ya * ya;
    l1 += y - ya;
    l2 += (y - ya) ** 2;
    perDraw[u] = center ? y - ya : y;
  }
  const delta = estimate(y1, y2, draws), landscape = estimate(l1, l2, draws);
  out?.set(perDraw);
  return {
    kRange: [curve.k[js[0]], curve.k[js[js.length - 1]]],
    delta,
    // One data order for every row: a_k² is the same for every draw, exactly.
    data: center?.length === m ? { value: a1 / draws, se: 0 } : estimate(a1, aa, draws),
    landscape,
    varianceRatio: r > 1
      ? estimate(x1, x2, points).se ** 2 / (center ? landscape : delta).se ** 2
      : null,
  };
}

/**
 * The level of a curve: the mean of k² Δ_k (and of k² times each term) over k >= kMin.
 * @param kMin The first k averaged (default 10).
 */
export function curveLevel(curve: DeltaCurve, kMin?: number, out?: Float64Array): TermMeans {
  return termMeans(curve, { kFrom: kMin ?? 10, weight: (k) => k * k }, out);
}

/** Which term of Δ is larger in magnitude around k: their means over k/1.25 .. 1.25 k. */
export function dominantTerm(
  curve: DeltaCurve,
  k: number,
): TermMeans & { k: number; term: "data term" | "landscape term"; dataShare: number } {
  const means = termMeans(curve, { kFrom: k / 1.25, kTo: k * 1.25 });
  const data = means.data.value, landscape = means.landscape.value;
  return {
    ...means,
    k,
    term: Math.abs(landscape) > Math.abs(data) ? "landscape term" : "data term",
    dataShare: data / means.delta.value,
  };
}
