/**
 * Heavy tails of a Δk estimate: how much of the sum the largest single draw carries, and the
 * effective sample size, per k. A few draws that carry most of the sum (for example points that
 * wake a batch-norm unit whose running variance is near zero) make the standard error
 * unreliable, so they are reported with bootstrap standard errors and a warning rather than
 * hidden. The draws are the curve's independent units (points, or antithetic pairs) and their
 * values are the contributions to the landscape term (D² - a², when the curve has its terms;
 * else D²), the part that σ and the landscape add and that heavy tails disturb.
 * @module
 */
import { type DeltaCurve, drawRows } from "./delta.ts";
import { resampleCounts } from "./rate.ts";

/** A statistic with its bootstrap standard error. */
export interface Bootstrapped {
  /** The value on the draws as measured. */
  value: number;
  /** Standard deviation over the bootstrap replicates (NaN without replicates). */
  se: number;
}

/** Heavy-tail statistics at one k. */
export interface TailAt {
  /** k of Δ_k. */
  k: number;
  /** Independent draws (points, or pairs). */
  draws: number;
  /** Largest |value| of one draw over the sum of |values|: 1 / draws when all are equal. */
  share: Bootstrapped;
  /** Effective sample size (Σ|x|)² / Σx²: `draws` when all are equal, 1 when one dominates. */
  ess: Bootstrapped;
  /** True when the effective sample size is below `dominated` x draws. */
  dominated: boolean;
}

/** What {@link heavyTails} reports. */
export interface Tails {
  /** What the values are: "landscape term" (D² - a²) or "Δ" (D², a curve without terms). */
  quantity: "landscape term" | "Δ";
  /** The reported k (k = 11, 101, 1001, ... within the curve, or its last k). */
  at: TailAt[];
  /** The k with the smallest effective sample size over the whole curve. */
  worst: TailAt;
  /** One line when a few draws dominate at some k, else null. */
  warning: string | null;
}

/** Options of {@link heavyTails}. */
export interface TailOptions {
  /** The k to report (default 11, 101, 1001, ... that the curve measures, or its last k). */
  ks?: number[];
  /** Bootstrap replicates for the standard errors (default 200). */
  bootstrap?: number;
  /** Seed of the bootstrap (default 0). */
  seed?: number;
  /** Warn when the effective sample size falls below this fraction of the draws (default
   * 0.1: a χ²₁-like spread, the antithetic landscape term at small σ, has about a third). */
  dominated?: number;
}

/** The draws' values at curve index j: their mean over each draw's rows of D² (- a²). */
function drawValues(curve: DeltaCurve, j: number): Float64Array {
  const m = curve.k.length, r = drawRows(curve.estimator), d = curve.differences;
  const center = curve.terms?.center;
  const out = new Float64Array(curve.points / r);
  for (let t = 0; t < curve.points; t++) {
    let v = d[t * m + j] ** 2;
    if (center) v -= (center.length === m ? center[j] : center[t * m + j]) ** 2;
    out[Math.floor(t / r)] += v / r;
  }
  return out;
}

/** Share of the largest and effective sample size of values drawn `counts` times each. */
function shareAndEss(x: Float64Array, counts?: Uint32Array): [number, number] {
  let sum = 0, sum2 = 0, largest = 0;
  for (let u = 0; u < x.length; u++) {
    const c = counts ? counts[u] : 1;
    if (c === 0) continue;
    const a = Math.abs(x[u]);
    sum += c * a;
    sum2 += c * a * a;
    largest = Math.max(largest, a);
  }
  return sum > 0 ? [largest / sum, sum * sum / sum2] : [NaN, NaN];
}

function sd(values: number[]): number {
  const v = values.filter(Number.isFinite);
  if (v.length < 2) return NaN;
  const m = v.reduce((s, x) => s + x, 0) / v.length;
  return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
}

/**
 * The largest share of the sum and the effective sample size of any per-draw values `x` (for
 * example each draw's contribution to a curve's level), with bootstrap standard errors.
 */
export function drawTail(
  x: Float64Array,
  options: Omit<TailOptions, "ks"> = {},
): Omit<TailAt, "k"> {
  const bootstrap = options.bootstrap ?? 200, seed = options.seed ?? 0;
  const [share, ess] = shareAndEss(x);
  const shares: number[] = [], esses: number[] = [];
  for (let r = 0; r < bootstrap; r++) {
    const [s, e] = shareAndEss(x, resampleCounts(x.length, seed, r));
    shares.push(s);
    esses.push(e);
  }
  return {
    draws: x.length,
    share: { value: share, se: sd(shares) },
    ess: { value: ess, se: sd(esses) },
    dominated: ess < (options.dominated ?? 0.1) * x.length,
  };
}

/**
 * The largest draw's share of the sum and the effective sample size of `curve`'s draws at the
 * reported k and at the k where they are worst, with bootstrap standard errors (draws resampled
 * with replacement, as the rate fit's bootstrap does), and a warning where a few draws dominate.
 */
export function heavyTails(curve: DeltaCurve, options: TailOptions = {}): Tails {
  const m = curve.k.length, bootstrap = options.bootstrap ?? 200, seed = options.seed ?? 0;
  const fraction = options.dominated ?? 0.1;
  const draws = curve.points / drawRows(curve.estimator);
  const index = (k: number) => curve.k.indexOf(k);
  let ks = options.ks ?? [];
  if (options.ks === undefined) {
    for (let k = 11; k <= curve.k[m - 1]; k = (k - 1) * 10 + 1) ks.push(k);
    if (ks.length === 0) ks = [curve.k[m - 1]];
  }
  for (const k of ks) {
    if (index(k) < 0) throw new RangeError(`k = ${k} is not on the curve (k = 2 .. ${m + 1})`);
  }
  const at = (j: number): TailAt => ({
    k: curve.k[j],
    ...drawTail(drawValues(curve, j), { bootstrap, seed, dominated: fraction }),
  });
  let worstJ = 0, worstEss = Infinity;
  for (let j = 0; j < m; j++) {
    const ess = shareAndEss(drawValues(curve, j))[1];
    if (ess < worstEss) [worstJ, worstEss] = [j, ess];
  }
  const worst = at(worstJ);
  const quantity = curve.terms ? "landscape term" : "Δ";
  const unit = curve.estimator === "antithetic" ? "pairs" : "points";
  const warning = worst.dominated
    ? `a few draws dominate the ${quantity}: at k = ${worst.k} the largest of ${draws} ${unit} ` +
      `carries ${(100 * worst.share.value).toFixed(0)}% of the sum (effective sample size ` +
      `${worst.ess.value.toFixed(1)}), so its standard error is unreliable there; more points, ` +
      `or units that amplify the perturbation (see the batch-norm diagnostic), are the remedy`
    : null;
  return { quantity, at: ks.map((k) => at(index(k))), worst, warning };
}
