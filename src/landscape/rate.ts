/**
 * The convergence rate of Δk (design section 5, "Derived results"): log-binning of a
 * {@link DeltaCurve}, the power-law fit log Δ_k = c - p log k over its tail (Theorem 1 of the
 * paper predicts p ≈ 2 asymptotically), and the percentile bootstrap over the T Monte-Carlo
 * points that gives its interval. Everything here is host-side float64.
 *
 * Bootstrap: replicate r draws T rows of D with replacement from
 * `PhiloxStream(seed, r, RNG_DOMAIN.bootstrap)`, so a replicate's resample depends only on (seed, r):
 * the same seed gives the same intervals, and {@link fitRate} and `sufficiency` with the same
 * seed resample the same rows. An antithetic curve's pairs are resampled whole (both rows of a
 * pair together), since its rows are independent only pair by pair.
 * @module
 */
import { PhiloxStream, RNG_DOMAIN } from "../rng/philox.ts";
import { type DeltaCurve, drawRows } from "./delta.ts";
import { leastSquares, robustLine } from "./robust_line.ts";

/** Options of {@link logBins}. */
export interface LogBinOptions {
  /** Number of log-spaced bins between kMin and the largest k (default 40); empty ones are
   * dropped. */
  bins?: number;
  /** Smallest k binned (default 2, the first k of a curve); smaller k are left out. */
  kMin?: number;
}

/** A {@link DeltaCurve} averaged over log-spaced bins of k (only the non-empty bins). */
export interface LogBins {
  /** Bin centre: the geometric mean of the k in the bin. */
  k: Float64Array;
  /** Mean of Δ_k over the k in the bin. */
  delta: Float64Array;
  /** Index into the curve's arrays of the bin's first k. */
  start: Uint32Array;
  /** One past the index of the bin's last k (the bin holds curve indices start..end-1). */
  end: Uint32Array;
  /** T, the number of Monte-Carlo points (rows of `perPoint`). */
  points: number;
  /** Rows per independent draw (2 for antithetic pairs, else 1). */
  rowsPerDraw: number;
  /**
   * Per-point bin means of D^2, row-major [T, bins]: perPoint[t * bins + b] is the mean over the
   * k in bin b of D[t, k]^2, so `delta[b]` is its mean over t. Resampling its rows resamples the
   * binned Δ without touching the full [T, n - 1] differences again.
   */
  perPoint: Float64Array;
}

/** Throws unless the curve's arrays agree with each other and k increases. */
export function checkCurve(curve: DeltaCurve): void {
  const m = curve.k.length, t = curve.points;
  if (!Number.isInteger(t) || t < 1) {
    throw new RangeError(`curve.points must be a positive integer, got ${t}`);
  }
  if (m < 1) throw new RangeError("the Δk curve is empty (no k)");
  if (curve.delta.length !== m) {
    throw new RangeError(`curve.delta has ${curve.delta.length} values for ${m} values of k`);
  }
  if (curve.differences.length !== t * m) {
    throw new RangeError(
      `curve.differences has ${curve.differences.length} values; expected points x k = ` +
        `${t} x ${m} (row-major [T, n - 1], as curveFromDifferences makes it)`,
    );
  }
  for (let j = 1; j < m; j++) {
    if (!(curve.k[j] > curve.k[j - 1])) {
      throw new RangeError(
        `curve.k must increase; k[${j - 1}] = ${curve.k[j - 1]}, k[${j}] = ${curve.k[j]}`,
      );
    }
  }
}

/**
 * Averages a Δk curve over `bins` log-spaced bins of k between `kMin` and the largest k (edges
 * kMin * (kMax / kMin)^(i / bins); the last bin includes kMax), dropping empty bins. Besides the
 * binned Δ it returns, per Monte-Carlo point, the bin means of D^2 for bootstrap resampling.
 * Throws if `curve.differences` does not reproduce `curve.delta` (a layout other than
 * [T, n - 1] row-major).
 */
export function logBins(curve: DeltaCurve, options: LogBinOptions = {}): LogBins {
  checkCurve(curve);
  const bins = options.bins ?? 40, kMin = options.kMin ?? 2;
  if (!Number.isInteger(bins) || bins < 1) {
    throw new RangeError(`bins must be a positive integer, got ${bins}`);
  }
  const m = curve.k.length, kMax = curve.k[m - 1];
  if (!(kMin > 0) || !(kMin < kMax)) {
    throw new RangeError(`kMin must lie in (0, ${kMax}) (the largest k measured), got ${kMin}`);
  }
  const span = Math.log(kMax / kMin);
  const starts: number[] = [], ends: number[] = [];
  let current = -1;
  for (let j = 0; j < m; j++) {
    const k = curve.k[j];
    if (k < kMin) continue;
    const b = Math.min(bins - 1, Math.floor(bins * Math.log(k / kMin) / span));
    if (b !== current) {
      if (current >= 0) ends.push(j);
      starts.push(j);
      current = b;
    }
  }
  ends.push(m);
  const nb = starts.length, t = curve.points;
  const k = new Float64Array(nb), delta = new Float64Array(nb);
  const perPoint = new Float64Array(t * nb);
  for (let b = 0; b < nb; b++) {
    const s = starts[b], e = ends[b];
    let logSum = 0, deltaSum = 0;
    for (let j = s; j < e; j++) {
      logSum += Math.log(curve.k[j]);
      deltaSum += curve.delta[j];
    }
    k[b] = Math.exp(logSum / (e - s));
    delta[b] = deltaSum / (e - s);
  }
  const d = curve.differences;
  for (let row = 0; row < t; row++) {
    const base = row * m;
    for (let b = 0; b < nb; b++) {
      let sum = 0;
      for (let j = starts[b]; j < ends[b]; j++) sum += d[base + j] * d[base + j];
      perPoint[row * nb + b] = sum / (ends[b] - starts[b]);
    }
  }
  // D^2 from float32 values summed in float64 reproduces Δ to ~1e-15; a different layout does not.
  for (let b = 0; b < nb; b++) {
    let sum = 0;
    for (let row = 0; row < t; row++) sum += perPoint[row * nb + b];
    const mean = sum / t;
    if (!(Math.abs(mean - delta[b]) <= 1e-6 * Math.abs(delta[b]) + 1e-300)) {
      throw new RangeError(
        `curve.differences do not reproduce curve.delta in the bin at k ≈ ${k[b].toPrecision(4)} ` +
          `(mean of D^2 ${mean}, Δ ${delta[b]}): D must be row-major [T, n - 1] with ` +
          `D[t, j] = L_{j+2}(w_t) - L_{j+1}(w_t); build the curve with curveFromDifferences`,
      );
    }
  }
  return {
    k,
    delta,
    start: Uint32Array.from(starts),
    end: Uint32Array.from(ends),
    points: t,
    rowsPerDraw: drawRows(curve.estimator),
    perPoint,
  };
}

/**
 * The curve from k = kMin on with one k per "bin", in the layout of {@link logBins}: what the
 * per-k rate fit regresses on.
 */
export function perKBins(curve: DeltaCurve, kMin: number): LogBins {
  checkCurve(curve);
  const m = curve.k.length, t = curve.points;
  let first = 0;
  while (first < m && curve.k[first] < kMin) first++;
  const nb = m - first;
  const perPoint = new Float64Array(t * nb), d = curve.differences;
  for (let row = 0; row < t; row++) {
    for (let b = 0; b < nb; b++) perPoint[row * nb + b] = d[row * m + first + b] ** 2;
  }
  const start = new Uint32Array(nb).map((_, b) => first + b);
  return {
    k: curve.k.slice(first),
    delta: curve.delta.slice(first),
    start,
    end: start.map((s) => s + 1),
    points: t,
    rowsPerDraw: drawRows(curve.estimator),
    perPoint,
  };
}

/**
 * How many times each of the T rows is drawn in bootstrap replicate `replicate`: T draws with
 * replacement, each an exactly uniform index from one 32-bit word of
 * `PhiloxStream(seed, replicate, RNG_DOMAIN.bootstrap)` (Lemire's multiply-and-reject; half the
 * words of `nextInt`, whose cost dominates small bootstraps).
 */
export function resampleCounts(points: number, seed: number, replicate: number): Uint32Array {
  if (!Number.isInteger(points) || points < 1 || points > 2 ** 21) {
    throw new RangeError(`points must be an integer in [1, 2^21], got ${points}`);
  }
  const rng = new PhiloxStream(seed, replicate, RNG_DOMAIN.bootstrap);
  const counts = new Uint32Array(points);
  const reject = (2 ** 32 - points) % points; // low words below this are redrawn
  for (let i = 0; i < points; i++) {
    let product = rng.nextWord() * points; // exact: below 2^53
    while (product % 2 ** 32 < reject) product = rng.nextWord() * points;
    counts[Math.floor(product / 2 ** 32)]++;
  }
  return counts;
}

/**
 * How many times each row of the curve is drawn in bootstrap replicate `replicate`: its
 * independent draws (points, or antithetic pairs) resampled by {@link resampleCounts}, each
 * draw's rows counted together.
 */
export function resampleRows(curve: DeltaCurve, seed: number, replicate: number): Uint32Array {
  const r = drawRows(curve.estimator);
  const counts = resampleCounts(curve.points / r, seed, replicate);
  if (r === 1) return counts;
  const rows = new Uint32Array(curve.points);
  for (let t = 0; t < rows.length; t++) rows[t] = counts[Math.floor(t / r)];
  return rows;
}

/** Binned Δ of a resample: out[b] = sum_t counts[t] * perPoint[t, b] / T. */
export function resampledBins(bins: LogBins, counts: Uint32Array): Float64Array {
  const nb = bins.k.length, t = bins.points;
  const out = new Float64Array(nb);
  for (let row = 0; row < t; row++) {
    const c = counts[row];
    if (c === 0) continue;
    for (let b = 0; b < nb; b++) out[b] += c * bins.perPoint[row * nb + b];
  }
  for (let b = 0; b < nb; b++) out[b] /= t;
  return out;
}

/**
 * Empirical quantile q of ascending `sorted` values (linear interpolation between order
 * statistics, R's type 7); +Infinity entries are allowed and propagate. NaN for no values.
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q, lo = Math.floor(h), frac = h - lo;
  if (frac === 0 || lo + 1 >= n) return sorted[lo];
  const a = sorted[lo], b = sorted[lo + 1];
  if (b === Infinity) return Infinity;
  return a + frac * (b - a);
}

/** Options of {@link fitRate}. */
export interface RateOptions {
  /**
   * First k of the fitted tail. Default: the upper two decades of the measured range,
   * max(10, kMax / 100): Δ_k follows k^-p only asymptotically (for losses independent across
   * samples Δ_k = σ^2 / (k (k - 1)), whose local slope is 2 + 1 / (k - 1)), so the small-k
   * end is left out; two decades keep the lever arm long, and k = 10 bounds the pre-asymptotic
   * bias (to ~0.1 in that example) when fewer than three decades are measured.
   */
  tailStart?: number;
  /** Log-spaced bins over [tailStart, kMax] (default 40; empty bins are dropped). */
  bins?: number;
  /** Bootstrap replicates (default 200; 0 skips the interval). */
  bootstrap?: number;
  /** Seed of the bootstrap resampling (default 0). */
  seed?: number;
  /**
   * "binned" (default): the line is fitted to log-binned Δ, one point per bin, so every part of
   * the log-k range weighs alike; "per-k": one point per k, so the last decade weighs about 10x
   * the one before it and a single k counts as little as it is.
   */
  method?: "binned" | "per-k";
  /**
   * Downweight outlying bins (or k) by Tukey's bisquare instead of plain least squares
   * (default false).
   */
  robust?: boolean;
}

/** A power-law fit Δ_k ≈ C k^-p (C = e^c) over the tail of a Δk curve. */
export interface RateFit {
  /** The exponent p (Theorem 1: p ≈ 2 asymptotically). */
  p: number;
  /** The intercept c of log Δ_k = c - p log k, so C = e^c. */
  c: number;
  /** Standard error of p from the regression residuals (treats bins as independent, which
   * the shared prefix means are not: prefer `interval`). */
  standardError: number;
  /** 95% percentile-bootstrap interval of p over the T points; null when bootstrap is 0. */
  interval: [number, number] | null;
  /** First and last k of the fitted bins. */
  kRange: [number, number];
  /** Number of (non-empty) bins fitted. */
  bins: number;
  /** The tail start used. */
  tailStart: number;
  /** Effective bin centres the line was fitted at: C k_b^-p equals the bin mean of C k^-p. */
  binK: Float64Array;
  /** Binned Δ (mean over the bin) the line was fitted to (before the log-bias correction). */
  binDelta: Float64Array;
  /** Bootstrap replicates: the refitted p and c of each (NaN where a resampled bin was 0). */
  replicates: { p: Float64Array; c: Float64Array };
  /** Replicates left out of the interval because a resampled bin had Δ = 0. */
  failed: number;
  /** The seed of the bootstrap. */
  seed: number;
  /** How the line was fitted (see {@link RateOptions}). */
  method: "binned" | "per-k";
  /** Whether robust (bisquare) weights were used. */
  robust: boolean;
  /** Weight of every fitted bin (or k) in the point estimate: all 1 unless robust. */
  weights: Float64Array;
}

/**
 * log of the effective centre of every bin for exponent p: x_b = -log(mean_{k in b} k^-p) / p,
 * where a power law C k^-p takes its bin mean (the geometric mean of k's log when p = 0).
 */
function effectiveCentres(curve: DeltaCurve, bins: LogBins, p: number): Float64Array {
  const out = new Float64Array(bins.k.length);
  for (let b = 0; b < out.length; b++) {
    const s = bins.start[b], e = bins.end[b];
    if (e - s === 1 || Math.abs(p) < 1e-9) {
      out[b] = Math.log(bins.k[b]);
      continue;
    }
    // log-sum-exp of -p log k, anchored at the first k.
    const a0 = -p * Math.log(curve.k[s]);
    let sum = 0;
    for (let j = s; j < e; j++) sum += Math.exp(-p * Math.log(curve.k[j]) - a0);
    out[b] = -(a0 + Math.log(sum / (e - s))) / p;
  }
  return out;
}

/**
 * log of the binned Δ, less its small-sample bias: a mean X of T points has
 * E[log X] ≈ log E[X] - Var[X] / (2 E[X]^2), and Var[X] (the squared standard error of the bin's
 * Δ) grows relative to Δ where a bin holds few k, which biases p low by a fraction of its
 * standard error at T ~ 16-32. Adds back v / (2 Δ^2), v = the sample variance over the
 * (resampled, `counts` times each; all once when null) points of perPoint, divided by T.
 */
function logBinned(
  bins: LogBins,
  delta: Float64Array,
  counts: Uint32Array | null,
  out: Float64Array,
): void {
  const nb = bins.k.length, r = bins.rowsPerDraw, draws = bins.points / r;
  const mean = counts === null ? resampledBins(bins, new Uint32Array(bins.points).fill(1)) : delta;
  const v = new Float64Array(nb);
  if (draws > 1) {
    for (let u = 0; u < draws; u++) {
      const c = counts === null ? 1 : counts[u * r];
      if (c === 0) continue;
      for (let b = 0; b < nb; b++) {
        let x = 0; // the draw's mean over its rows
        for (let i = 0; i < r; i++) x += bins.perPoint[(u * r + i) * nb + b] / r;
        v[b] += c * (x - mean[b]) ** 2;
      }
    }
  }
  for (let b = 0; b < nb; b++) {
    const variance = draws > 1 ? v[b] / (draws - 1) / draws : 0;
    out[b] = Math.log(delta[b]) + variance / (2 * delta[b] * delta[b]);
  }
}

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}

/**
 * Fits log Δ_k = c - p log k by least squares to the log-binned curve over k >= tailStart
 * (equal weight per bin, i.e. uniform in log k), with a 95% percentile-bootstrap interval for p
 * over the T points (rows of D resampled with replacement, bins recomputed, line refitted).
 * `method: "per-k"` fits one point per k instead, and `robust` reweights the points by Tukey's
 * bisquare (in the bootstrap too); {@link rateSensitivity} compares the four.
 *
 * A bin's mean of a power law is not the power law at the bin's geometric centre (Jensen), and
 * the gap varies with how many integers a bin holds, which would bias p. So the line is fitted
 * at effective centres k_b(p), where C k_b^-p equals the bin mean of C k^-p, iterating p to a
 * fixed point (a few steps): an exact power law gives p exactly. Bootstrap refits keep the
 * centres of the point estimate (their dependence on p is second order in the bin width).
 * Each bin's log Δ is corrected for the small-sample bias of the log of a mean (+ SE^2 / (2 Δ^2),
 * SE the bin's standard error over the points): without it p came out low by ~0.4 of its
 * standard error at T = 16 on synthetic power laws, and by ~0.02 of it with it.
 * @param options Fit range, bins and bootstrap (default: every {@link RateOptions} default).
 */
export function fitRate(curve: DeltaCurve, options?: RateOptions): RateFit {
  options ??= {};
  checkCurve(curve);
  const bootstrap = options.bootstrap ?? 200, seed = options.seed ?? 0;
  checkCount("bootstrap", bootstrap);
  checkCount("seed", seed);
  const kFirst = curve.k[0], kMax = curve.k[curve.k.length - 1];
  const tailStart = options.tailStart ?? Math.max(10, kMax / 100);
  if (!(tailStart >= kFirst && tailStart < kMax)) {
    throw new RangeError(
      `tailStart ${tailStart} is outside the measured k range [${kFirst}, ${kMax}); ` +
        (options.tailStart === undefined
          ? `the default tail starts at k = 10: measure k up to 12 at least, or pass a tailStart`
          : `pass a tailStart in [${kFirst}, ${kMax})`),
    );
  }
  const method = options.method ?? "binned", robust = options.robust ?? false;
  const bins = method === "binned"
    ? logBins(curve, { bins: options.bins ?? 40, kMin: tailStart })
    : perKBins(curve, tailStart);
  const fitLine = (x: Float64Array, y: Float64Array) =>
    robust ? robustLine(x, y) : leastSquares(x, y);
  const nb = bins.k.length;
  if (nb < 3) {
    throw new RangeError(
      `the rate fit needs at least 3 non-empty log bins with k >= tailStart, got ${nb} over ` +
        `k in [${tailStart}, ${kMax}]: lower tailStart, raise bins, or measure a larger k range`,
    );
  }
  const y = new Float64Array(nb);
  for (let b = 0; b < nb; b++) {
    if (!(bins.delta[b] > 0) || !Number.isFinite(bins.delta[b])) {
      throw new RangeError(
        `${method === "binned" ? "binned " : ""}Δ is ${bins.delta[b]} at k ≈ ${
          bins.k[b].toPrecision(4)
        }: a power law needs ` +
          `positive finite Δ in every fitted bin; start the tail past it (tailStart)`,
      );
    }
  }
  logBinned(bins, bins.delta, null, y);
  let x = effectiveCentres(curve, bins, 0);
  let fit = fitLine(x, y);
  for (let i = 0; i < 100; i++) {
    const p = -fit.slope;
    x = effectiveCentres(curve, bins, p);
    fit = fitLine(x, y);
    if (Math.abs(-fit.slope - p) <= 1e-14 * Math.max(1, Math.abs(p))) break;
  }
  const repP = new Float64Array(bootstrap), repC = new Float64Array(bootstrap);
  const yr = new Float64Array(nb);
  let failed = 0;
  for (let r = 0; r < bootstrap; r++) {
    const counts = resampleRows(curve, seed, r);
    const binned = resampledBins(bins, counts);
    if (!binned.every((v) => v > 0)) {
      repP[r] = repC[r] = NaN;
      failed++;
      continue;
    }
    logBinned(bins, binned, counts, yr);
    const f = fitLine(x, yr);
    repP[r] = -f.slope;
    repC[r] = f.intercept;
  }
  let interval: [number, number] | null = null;
  if (bootstrap - failed > 0) {
    const sorted = repP.filter((v) => !Number.isNaN(v)).sort();
    interval = [quantile(sorted, 0.025), quantile(sorted, 0.975)];
  }
  return {
    p: -fit.slope,
    c: fit.intercept,
    standardError: fit.se,
    interval,
    kRange: [curve.k[bins.start[0]], curve.k[bins.end[nb - 1] - 1]],
    bins: nb,
    tailStart,
    binK: x.map(Math.exp),
    binDelta: bins.delta,
    replicates: { p: repP, c: repC },
    failed,
    seed,
    method,
    robust,
    weights: fit.weights,
  };
}

/** One way of fitting the rate and what it gave (null with the reason when it cannot fit). */
export interface RateVariant {
  /** Binned or per-k (see {@link RateOptions}). */
  method: "binned" | "per-k";
  /** Whether robust (bisquare) weights were used. */
  robust: boolean;
  /** The fit, or null when this way cannot fit the curve. */
  fit: RateFit | null;
  /** Why it cannot, or null. */
  error: string | null;
}

/**
 * The rate fitted four ways: binned (the default) and per k, each by least squares and with
 * robust weights, same tail and bootstrap seed. Their spread shows how much p depends on the
 * method: a curve with one k carrying an unusually large loss moves the binned and per-k fits
 * apart, and the robust ones less.
 * @param options Tail, bins and bootstrap shared by the four fits (default: fitRate's defaults).
 */
export function rateSensitivity(
  curve: DeltaCurve,
  options?: Omit<RateOptions, "method" | "robust">,
): { variants: RateVariant[]; spread: number } {
  options ??= {};
  const variants: RateVariant[] = [];
  for (const robust of [false, true]) {
    for (const method of ["binned", "per-k"] as const) {
      try {
        variants.push({
          method,
          robust,
          fit: fitRate(curve, { ...options, method, robust }),
          error: null,
        });
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        variants.push({ method, robust, fit: null, error: e.message });
      }
    }
  }
  const ps = variants.flatMap((v) => v.fit ? [v.fit.p] : []);
  return { variants, spread: ps.length ? Math.max(...ps) - Math.min(...ps) : NaN };
}
