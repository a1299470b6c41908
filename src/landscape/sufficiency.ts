/**
 * Sample sufficiency (design section 5, "Derived results"; the paper's "geometric notion of
 * sample sufficiency"): the smallest k from which Δ_k stays below a threshold, with a
 * percentile-bootstrap interval over the T Monte-Carlo points, or, when the measured range stops
 * short of the threshold, the k* where a power-law fit crosses it.
 * @module
 */
import type { DeltaCurve } from "./delta.ts";
import {
  type LogBins,
  logBins,
  quantile,
  type RateFit,
  resampledBins,
  resampleRows,
} from "./rate.ts";

/** Options of {@link sufficiency}. */
export interface SufficiencyOptions {
  /** A rate fit of the same curve ({@link fitRate}), used to extrapolate when the measured
   * range does not reach the threshold; by default none, and that case is reported as not
   * reached. */
  fit?: RateFit;
  /** Bootstrap replicates for the interval of a measured crossing (default 200; 0 skips it). */
  bootstrap?: number;
  /** Seed of the bootstrap resampling (default 0; the same rows as fitRate's with that seed). */
  seed?: number;
  /** Log-spaced bins between kMin and the largest k (default 40, as {@link logBins}). */
  bins?: number;
  /** Smallest k considered (default 2). */
  kMin?: number;
}

/** What every sufficiency result carries. */
export interface SufficiencyCommon {
  /** The threshold on Δ_k. */
  threshold: number;
  /** First and last k measured (of those considered, k >= kMin). */
  measured: [number, number];
}

/** The measured Δ_k stays below the threshold from `k` on. */
export interface SufficiencyReached extends SufficiencyCommon {
  /** Which case applies. */
  status: "reached";
  /** The crossing (a measured k): Δ is below the threshold from here on, by the rule of
   * {@link sufficiency}. */
  k: number;
  /** True when Δ was already below the threshold at the first k considered: the crossing is
   * at or before `k`, which is then an upper bound. */
  fromStart: boolean;
  /**
   * 95% percentile-bootstrap interval of k over the T points, rounded outward to integers; a
   * replicate whose Δ never stays below the threshold within the measured range counts as
   * k = Infinity, so `hi` is Infinity when more than 2.5% of them never cross (see
   * `unreached`). Null when bootstrap is 0.
   */
  interval: [number, number] | null;
  /** Bootstrap replicates run. */
  replicates: number;
  /** Replicates whose Δ never stays below the threshold within the measured range. */
  unreached: number;
}

/** The measured range stops short of the threshold; k* comes from the power-law fit. */
export interface SufficiencyExtrapolated extends SufficiencyCommon {
  /** Which case applies. */
  status: "extrapolated";
  /** k* = (C / threshold)^(1/p) from the fit Δ ≈ C k^-p (not rounded). It can fall inside
   * the measured range when the measured tail lies above the fitted line: compare with
   * `measured`. */
  k: number;
  /** The fit's exponent p and intercept c = log C. */
  p: number;
  /** The fit's intercept c = log C. */
  c: number;
  /**
   * 95% percentile interval of k* over the fit's bootstrap replicates (a replicate with p <= 0
   * never crosses and counts as Infinity). Null when the fit has no replicates.
   */
  interval: [number, number] | null;
  /** Bootstrap replicates of the fit used. */
  replicates: number;
  /** Fit replicates with p <= 0, which never cross. */
  unreached: number;
}

/** Neither measured nor extrapolated: `reason` says why. */
export interface SufficiencyNotReached extends SufficiencyCommon {
  /** Which case applies. */
  status: "not-reached";
  /** No k. */
  k: null;
  /** Why: the measured range stops short and there is no fit, or the fit does not decrease. */
  reason: string;
}

/** The result of {@link sufficiency}: `status` says which case applies. */
export type Sufficiency = SufficiencyReached | SufficiencyExtrapolated | SufficiencyNotReached;

/**
 * Index (into the curve) of the crossing, or -1 if Δ does not stay below within the range:
 * bin level past the crossing window, the best single-k split inside it (see {@link sufficiency}).
 */
function crossing(
  bins: LogBins,
  binned: Float64Array,
  perK: (s: number, e: number) => Float64Array,
  m: number,
  threshold: number,
): { index: number; fromStart: boolean } {
  const nb = binned.length;
  let last = -1;
  for (let b = nb - 1; b >= 0; b--) {
    if (!(binned[b] < threshold)) {
      last = b;
      break;
    }
  }
  const s = bins.start[Math.max(last, 0)], e = bins.end[Math.min(last + 1, nb - 1)];
  const values = perK(s, e);
  // Split at i: exceptions are values below the threshold before i and at or above from i on.
  let before = 0, after = 0;
  for (const v of values) if (!(v < threshold)) after++;
  let best = after, split = 0;
  for (let i = 1; i <= values.length; i++) {
    if (values[i - 1] < threshold) before++;
    else after--;
    if (before + after <= best) [best, split] = [before + after, i];
  }
  const index = s + split;
  return { index: index < m ? index : -1, fromStart: last === -1 && split === 0 };
}

/** Δ_j for j in [s, e) of a resample with row counts `counts`. */
function resampledPerK(curve: DeltaCurve, counts: Uint32Array, s: number, e: number): Float64Array {
  const m = curve.k.length, t = curve.points, d = curve.differences;
  const out = new Float64Array(e - s);
  for (let row = 0; row < t; row++) {
    const c = counts[row];
    if (c === 0) continue;
    const row0 = row * m + s;
    for (let i = 0; i < out.length; i++) {
      const v = d[row0 + i];
      out[i] += c * v * v;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] /= t;
  return out;
}

/**
 * The smallest k from which Δ_k stays below `threshold`, with a 95% bootstrap interval over
 * the T points (rows of D resampled with replacement, as in {@link fitRate}).
 *
 * "Stays below" is judged on the log-binned curve ({@link logBins}), so that one noisy Δ_k far
 * out does not undo a crossing: let L be the last bin whose mean Δ is at or above the threshold
 * (every later bin is below). The crossing is then located to single k inside bins L and L + 1
 * (bin 0 alone when no bin is at or above, bin L alone when it is the last): k is the split of
 * that window's Δ_k into "at or above" before and "below" after with the fewest exceptions (ties
 * go to the later k); a split after the last k measured means not reached. For a
 * decreasing curve that is exactly the first k with Δ_k < threshold; for a noisy one it tracks
 * where Δ_k is as often above as below, instead of the last noisy excursion above (which would
 * put k too late by a few standard errors of Δ_k). A single-k spike in a later bin that leaves
 * its bin's mean below the threshold is ignored by design.
 *
 * Cases (`status`): "reached" when the measured curve crosses; otherwise "extrapolated" with
 * k* = (C / threshold)^(1/p) from `options.fit` (interval from the fit's bootstrap
 * replicates), or "not-reached" when there is no fit or its p <= 0.
 *
 * Cost: the bootstrap recomputes single-k Δ inside each replicate's crossing window, about
 * T x (k in two bins) per replicate: at T = 256 and 200 replicates, ~1 s for a crossing near
 * k = 12,000 of 20,000 and ~5 s near 60,000 of 100,000 (2-core Xeon).
 * @param options A rate fit to extrapolate with and the bootstrap (default: no fit).
 */
export function sufficiency(
  curve: DeltaCurve,
  threshold: number,
  options?: SufficiencyOptions,
): Sufficiency {
  options ??= {};
  if (!(threshold > 0) || !Number.isFinite(threshold)) {
    throw new RangeError(`threshold must be a positive finite Δ, got ${threshold}`);
  }
  const bootstrap = options.bootstrap ?? 200, seed = options.seed ?? 0;
  for (const [name, v] of [["bootstrap", bootstrap], ["seed", seed]] as const) {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
    }
  }
  const bins = logBins(curve, { bins: options.bins ?? 40, kMin: options.kMin ?? 2 });
  const m = curve.k.length;
  const measured: [number, number] = [curve.k[bins.start[0]], curve.k[m - 1]];
  const found = crossing(bins, bins.delta, (s, e) => curve.delta.subarray(s, e), m, threshold);
  if (found.index >= 0) {
    const ks = new Float64Array(bootstrap);
    let unreached = 0;
    for (let r = 0; r < bootstrap; r++) {
      const counts = resampleRows(curve, seed, r);
      const binned = resampledBins(bins, counts);
      const rep = crossing(
        bins,
        binned,
        (s, e) => resampledPerK(curve, counts, s, e),
        m,
        threshold,
      );
      if (rep.index < 0) unreached++;
      ks[r] = rep.index < 0 ? Infinity : curve.k[rep.index];
    }
    ks.sort();
    return {
      status: "reached",
      threshold,
      measured,
      k: curve.k[found.index],
      fromStart: found.fromStart,
      interval: bootstrap > 0
        ? [Math.floor(quantile(ks, 0.025)), Math.ceil(quantile(ks, 0.975))]
        : null,
      replicates: bootstrap,
      unreached,
    };
  }
  const fit = options.fit;
  if (fit === undefined) {
    return {
      status: "not-reached",
      threshold,
      measured,
      k: null,
      reason: `Δ does not stay below ${threshold} within the measured k <= ${measured[1]}, ` +
        `and no rate fit was given to extrapolate (pass fit: fitRate(curve))`,
    };
  }
  if (!(fit.p > 0)) {
    return {
      status: "not-reached",
      threshold,
      measured,
      k: null,
      reason: `Δ does not stay below ${threshold} within the measured k <= ${measured[1]}, ` +
        `and the fitted exponent p = ${fit.p} does not make Δ decrease`,
    };
  }
  const logT = Math.log(threshold);
  const kStar = (c: number, p: number) => p > 0 ? Math.exp((c - logT) / p) : Infinity;
  const reps: number[] = [];
  let unreached = 0;
  for (let r = 0; r < fit.replicates.p.length; r++) {
    const p = fit.replicates.p[r], c = fit.replicates.c[r];
    if (Number.isNaN(p) || Number.isNaN(c)) continue;
    if (!(p > 0)) unreached++;
    reps.push(kStar(c, p));
  }
  reps.sort((a, b) => a - b);
  return {
    status: "extrapolated",
    threshold,
    measured,
    k: kStar(fit.c, fit.p),
    p: fit.p,
    c: fit.c,
    interval: reps.length > 0 ? [quantile(reps, 0.025), quantile(reps, 0.975)] : null,
    replicates: reps.length,
    unreached,
  };
}
