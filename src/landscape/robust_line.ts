/**
 * Straight-line fits for the rate of Δk: weighted least squares, and a robust fit that
 * downweights outlying points by Tukey's bisquare (iteratively reweighted least squares), so
 * that one k (or one bin) carrying a single sample of unusually large loss cannot pull the
 * slope. Host-side float64.
 * @module
 */

/** A fitted line y = intercept + slope x. */
export interface Line {
  slope: number;
  intercept: number;
  /** Standard error of the slope from the (weighted) residuals. */
  se: number;
  /** The weight of each point in the final fit (all 1 for least squares). */
  weights: Float64Array;
}

/** Weighted least squares y = a + slope x (weights default to 1). */
export function leastSquares(x: Float64Array, y: Float64Array, weights?: Float64Array): Line {
  const n = x.length, w = weights ?? new Float64Array(n).fill(1);
  let sw = 0, mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    sw += w[i];
    mx += w[i] * x[i];
    my += w[i] * y[i];
  }
  mx /= sw;
  my /= sw;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += w[i] * (x[i] - mx) * (x[i] - mx);
    sxy += w[i] * (x[i] - mx) * (y[i] - my);
  }
  const slope = sxy / sxx, intercept = my - slope * mx;
  let rss = 0, used = 0;
  for (let i = 0; i < n; i++) {
    rss += w[i] * (y[i] - intercept - slope * x[i]) ** 2;
    if (w[i] > 0) used++;
  }
  // sw / used rescales the weights to mean 1 over the points that count.
  const se = Math.sqrt(rss / (sw * (used - 2) / used) / sxx);
  return { slope, intercept, se, weights: w };
}

function median(values: Float64Array): number {
  const s = values.slice().sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Tuning constant of the bisquare: 95% efficiency for Gaussian residuals. */
const BISQUARE = 4.685;

/**
 * Robust line: least squares reweighted by Tukey's bisquare of the residuals over 4.685 robust
 * scales (1.4826 x the median absolute residual) until the weights settle. A point further than
 * that from the line gets weight 0; Gaussian scatter keeps weights near 1, so on clean data the
 * slope is that of least squares within a small fraction of its standard error.
 */
export function robustLine(x: Float64Array, y: Float64Array): Line {
  let fit = leastSquares(x, y);
  const n = x.length, r = new Float64Array(n);
  for (let iter = 0; iter < 50; iter++) {
    for (let i = 0; i < n; i++) r[i] = Math.abs(y[i] - fit.intercept - fit.slope * x[i]);
    const scale = 1.4826 * median(r);
    if (!(scale > 0)) break;
    const w = new Float64Array(n);
    let change = 0;
    for (let i = 0; i < n; i++) {
      const u = r[i] / (BISQUARE * scale);
      w[i] = u < 1 ? (1 - u * u) ** 2 : 0;
      change = Math.max(change, Math.abs(w[i] - fit.weights[i]));
    }
    fit = leastSquares(x, y, w);
    if (change < 1e-10) break;
  }
  return fit;
}
