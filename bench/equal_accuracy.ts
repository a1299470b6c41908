/**
 * Equal-accuracy comparison of Δk estimators: how long each needs to bring the standard error
 * of the landscape term down to a target X. Defined from a pilot run of each estimator:
 * points needed = pilot points x (SE_pilot / X)^2 (the standard error falls as 1 / sqrt(points)),
 * time to SE X = measured time per evaluated point x points needed. Pure functions, shared by
 * bench/compare.ts and its test.
 * @module
 */

/** One estimate with its standard error. */
export interface Estimate {
  /** The estimated value. */
  value: number;
  /** Its standard error. */
  se: number;
}

/**
 * D[t, j] = L_{j+2}(w_t) - L_{j+1}(w_t) from losses [rows, n] (L_k: mean of a row's first k),
 * row-major [rows, n - 1], summed in float64 and rounded once to float32 (the form
 * `curveFromDifferences` takes).
 */
export function lossDifferences(losses: ArrayLike<number>, rows: number, n: number): Float32Array {
  if (!(Number.isInteger(rows) && Number.isInteger(n) && rows >= 1 && n >= 2)) {
    throw new RangeError(`need at least one row of at least 2 losses, got [${rows}, ${n}]`);
  }
  if (losses.length !== rows * n) {
    throw new RangeError(`losses hold ${losses.length} values, not ${rows} x ${n}`);
  }
  const out = new Float32Array(rows * (n - 1));
  for (let t = 0; t < rows; t++) {
    let sum = losses[t * n];
    for (let k = 1; k < n; k++) {
      // L_{k+1} - L_k = (l_{k+1} - L_k) / (k + 1): no difference of two nearly equal means.
      const l = losses[t * n + k];
      out[t * (n - 1) + k - 1] = (l - sum / k) / (k + 1);
      sum += l;
    }
  }
  return out;
}

/**
 * Points an estimator needs for a standard error of `target`, given that `points` points gave
 * `se`; Infinity when the target is not positive and finite.
 */
export function pointsNeeded(points: number, se: number, target: number): number {
  if (!(target > 0) || !Number.isFinite(target)) return Infinity;
  return points * (se / target) ** 2;
}

/** Milliseconds to reach a standard error of `target`: ms per point x {@link pointsNeeded}. */
export function timeToStandardError(
  msPerPoint: number,
  points: number,
  se: number,
  target: number,
): number {
  return msPerPoint * pointsNeeded(points, se, target);
}

/**
 * The target standard error both estimators are held to: `fraction` of the magnitude of their
 * inverse-variance weighted mean (neither estimator's own value alone sets the bar).
 */
export function targetStandardError(estimates: readonly Estimate[], fraction: number): number {
  let w = 0, wx = 0;
  for (const { value, se } of estimates) {
    if (!(se > 0) || !Number.isFinite(value)) continue;
    w += 1 / se ** 2;
    wx += value / se ** 2;
  }
  return w > 0 ? fraction * Math.abs(wx / w) : NaN;
}
