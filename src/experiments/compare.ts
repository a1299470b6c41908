/**
 * Comparing models trained with several seeds, each measured with noise of its own (a width is
 * a mean over random rays). Two levels of noise: between seeds (training is random) and within
 * a seed (which rays were drawn). A seed's value carries both, so the spread of the seed values
 * estimates their sum; with only a few seeds that estimate can by chance come out below the
 * within-seed part alone, which the rays measure directly, so the larger of the two is used.
 * Models are compared by Welch's t test on their seed values: the effect with its 95% CI, a
 * verdict from the CI, and a power line (the smallest effect these seeds detect at 80% power,
 * and the seeds per model the observed effect would need).
 * @module
 */
import { studentQuantile } from "./student_t.ts";

/** One seed's measurement: its value and the standard error within the seed (over rays). */
export interface SeedValue {
  value: number;
  se: number;
}

/** A model's seed values summarized. */
export interface Replicated {
  /** Number of seeds. */
  seeds: number;
  /** Mean over seeds. */
  mean: number;
  /** Standard error of the mean over seeds (both levels of noise; NaN with one seed). */
  se: number;
  /** 95% CI of the mean (t with seeds − 1 df; null with one seed). */
  interval: [number, number] | null;
  /** Standard deviation between seeds beyond the within-seed noise (0 when none is seen). */
  between: number;
  /** Root-mean-square standard error within a seed (the rays' noise). */
  within: number;
}

/** How a directional claim ("a exceeds b") fares. */
export type ComparisonVerdict = "holds" | "contradicted" | "inconclusive";

/** Claim "a exceeds b", tested on seed values. */
export interface Comparison {
  /** mean(a) − mean(b): positive supports the claim. */
  effect: number;
  /** Standard error of the effect. */
  se: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** 95% CI of the effect. */
  interval: [number, number];
  /** Smallest effect these seeds detect at 80% power (two-sided test at 5%). */
  detectable: number;
  /** Seeds per model the observed effect needs for 80% power (Infinity when it is 0). */
  seedsNeeded: number;
  /** holds: the CI lies above 0; contradicted: below 0; else inconclusive. */
  verdict: ComparisonVerdict;
  /** Why the verdict cannot be drawn, if so (e.g. one seed). */
  note?: string;
}

const LEVEL = 0.95, POWER = 0.8;

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Variance of one seed's value: the seeds' spread, at least the rays' own noise. */
function seedVariance(xs: SeedValue[]): { variance: number; spread: number; within: number } {
  const m = mean(xs.map((x) => x.value));
  const spread = xs.length > 1
    ? xs.reduce((a, x) => a + (x.value - m) ** 2, 0) / (xs.length - 1)
    : NaN;
  const within = mean(xs.map((x) => x.se * x.se));
  return { variance: xs.length > 1 ? Math.max(spread, within) : within, spread, within };
}

function check(xs: SeedValue[], what: string): void {
  if (xs.length === 0) throw new RangeError(`${what} has no seeds`);
  if (xs.some((x) => !Number.isFinite(x.value) || !(x.se >= 0))) {
    throw new RangeError(`${what} has a seed with a non-finite value or standard error`);
  }
}

/** A model's seed values: the mean with its standard error and 95% CI, and the noise levels. */
export function summarizeSeeds(xs: SeedValue[]): Replicated {
  check(xs, "the model");
  const { variance, spread, within } = seedVariance(xs);
  const n = xs.length, m = mean(xs.map((x) => x.value));
  const se = n > 1 ? Math.sqrt(variance / n) : NaN;
  const t = n > 1 ? studentQuantile((1 + LEVEL) / 2, n - 1) : NaN;
  return {
    seeds: n,
    mean: m,
    se,
    interval: n > 1 ? [m - t * se, m + t * se] : null,
    between: n > 1 ? Math.sqrt(Math.max(0, spread - within)) : NaN,
    within: Math.sqrt(within),
  };
}

/** Welch's degrees of freedom for per-seed variances va, vb over na, nb seeds. */
function welchDf(va: number, na: number, vb: number, nb: number): number {
  const a = va / na, b = vb / nb;
  const df = (a + b) ** 2 / (a * a / (na - 1) + b * b / (nb - 1));
  // Equal values and no ray noise leave 0/0: the smaller group's df is the honest bound.
  return Number.isFinite(df) && df > 0 ? df : Math.min(na, nb) - 1;
}

/** The t multiple of the SE a two-sided test at 5% needs for 80% power. */
function powerMultiple(df: number): number {
  return studentQuantile((1 + LEVEL) / 2, df) + studentQuantile(POWER, df);
}

/** Tests "a exceeds b" on two models' seed values (Welch's t test on seed means). */
export function compareSeeds(a: SeedValue[], b: SeedValue[]): Comparison {
  check(a, "the first model");
  check(b, "the second model");
  const va = seedVariance(a).variance, vb = seedVariance(b).variance;
  const na = a.length, nb = b.length;
  const effect = mean(a.map((x) => x.value)) - mean(b.map((x) => x.value));
  const se = Math.sqrt(va / na + vb / nb);
  const few = na < 2 || nb < 2;
  // With one seed the noise between seeds is unmeasured: the rays give a lower bound only.
  const df = few ? Infinity : welchDf(va, na, vb, nb);
  const dfq = df === Infinity ? 1e9 : df; // the normal limit, through the same quantiles
  const half = studentQuantile((1 + LEVEL) / 2, dfq) * se;
  const interval: [number, number] = [effect - half, effect + half];
  const detectable = powerMultiple(dfq) * se;
  let seedsNeeded = Infinity;
  if (effect !== 0 && va + vb > 0) {
    for (let n = 2; n <= 100_000; n = n < 64 ? n + 1 : Math.ceil(n * 1.05)) {
      if (powerMultiple(welchDf(va, n, vb, n)) * Math.sqrt((va + vb) / n) <= Math.abs(effect)) {
        seedsNeeded = n;
        break;
      }
    }
  } else if (effect !== 0) seedsNeeded = 2;
  const verdict: ComparisonVerdict = few
    ? "inconclusive"
    : interval[0] > 0
    ? "holds"
    : interval[1] < 0
    ? "contradicted"
    : "inconclusive";
  return {
    effect,
    se,
    df,
    interval,
    detectable,
    seedsNeeded,
    verdict,
    ...(few
      ? {
        note:
          "one seed: the noise between seeds is unmeasured, so no verdict (train 2 or more with --seeds)",
      }
      : {}),
  };
}

/**
 * A claim made of several comparisons that must all hold: holds when every one holds,
 * contradicted when any is contradicted, else inconclusive.
 */
export function jointVerdict(cs: Comparison[]): ComparisonVerdict {
  if (cs.length > 0 && cs.every((c) => c.verdict === "holds")) return "holds";
  return cs.some((c) => c.verdict === "contradicted") ? "contradicted" : "inconclusive";
}
