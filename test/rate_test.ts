/**
 * Tests of the log-binning and power-law rate fit of Δk curves (src/landscape/rate.ts), on
 * synthetic curves with a known law: D[t, k] ~ N(0, C k^-p) independently, so E[Δ_k] = C k^-p
 * exactly, and exact curves with identical rows.
 */
import assert from "node:assert/strict";
import { curveFromDifferences, type DeltaCurve } from "../src/landscape/delta.ts";
import {
  fitRate,
  logBins,
  quantile,
  rateSensitivity,
  resampleCounts,
  resampleRows,
} from "../src/landscape/rate.ts";
import { assertBitwiseEqual, assertClose, randomArray } from "./helpers.ts";
import { exactCurve, iidLossCurve, powerLawCurve } from "./synthetic_delta.ts";

/** Half-width of a 95% interval as a standard deviation. */
const sigma = ([lo, hi]: [number, number]) => (hi - lo) / (2 * 1.96);

Deno.test("logBins: log-spaced bins, empty ones dropped, geometric centres, bin means", () => {
  const curve = powerLawCurve({ points: 8, n: 1000, C: 1, p: 2, seed: 1 });
  const kMin = 2, kMax = 1000, bins = 40;
  const b = logBins(curve);
  const nb = b.k.length;
  // Edges 2 * 500^(i/40) are 17% apart, so some bins below k ≈ 7 hold no integer.
  assert.ok(nb < bins && nb > 30, `${nb} non-empty bins`);
  assert.equal(b.start[0], 0);
  assert.equal(b.end[nb - 1], curve.k.length);
  let lastIndex = -1;
  for (let i = 0; i < nb; i++) {
    if (i > 0) assert.equal(b.start[i], b.end[i - 1], "bins are contiguous");
    assert.ok(b.end[i] > b.start[i], "no empty bin");
    const binIndex = (k: number) =>
      Math.min(bins - 1, Math.floor(bins * Math.log(k / kMin) / Math.log(kMax / kMin)));
    const index = binIndex(curve.k[b.start[i]]);
    assert.ok(index > lastIndex, "bin edges increase");
    let logSum = 0, deltaSum = 0;
    for (let j = b.start[i]; j < b.end[i]; j++) {
      assert.equal(binIndex(curve.k[j]), index, `k = ${curve.k[j]} in its log bin`);
      logSum += Math.log(curve.k[j]);
      deltaSum += curve.delta[j];
    }
    lastIndex = index;
    const count = b.end[i] - b.start[i];
    assertClose([b.k[i]], [Math.exp(logSum / count)], { rtol: 1e-14 }, "geometric centre");
    assertClose([b.delta[i]], [deltaSum / count], { rtol: 1e-14 }, "bin mean of Δ");
  }
  // Per-point bin means of D^2, averaged over the points, are the binned Δ.
  const means = new Float64Array(nb);
  for (let t = 0; t < b.points; t++) {
    for (let i = 0; i < nb; i++) means[i] += b.perPoint[t * nb + i] / b.points;
  }
  assertClose(means, b.delta, { rtol: 1e-12 }, "mean over points of perPoint");
  // Row 3, bin 20 by hand from D[3, j].
  const m = curve.k.length;
  let s = 0;
  for (let j = b.start[20]; j < b.end[20]; j++) s += curve.differences[3 * m + j] ** 2;
  assertClose([b.perPoint[3 * nb + 20]], [s / (b.end[20] - b.start[20])], { rtol: 1e-14 }, "D^2");
  // kMin leaves out the smaller k; 5 bins over [50, 1000] are all non-empty.
  const tail = logBins(curve, { bins: 5, kMin: 50 });
  assert.equal(curve.k[tail.start[0]], 50);
  assert.equal(tail.k.length, 5);
});

Deno.test("logBins rejects bad options and differences in another layout", () => {
  const curve = powerLawCurve({ points: 6, n: 200, C: 1, p: 2, seed: 2 });
  const m = curve.k.length, t = curve.points;
  const transposed = new Float32Array(t * m);
  for (let r = 0; r < t; r++) {
    for (let j = 0; j < m; j++) transposed[j * t + r] = curve.differences[r * m + j];
  }
  assert.throws(
    () => logBins({ ...curve, differences: transposed }),
    /do not reproduce curve.delta.*row-major \[T, n - 1\]/,
  );
  assert.throws(
    () => logBins({ ...curve, differences: curve.differences.subarray(1) }),
    /expected points x k = 6 x 199/,
  );
  assert.throws(() => logBins(curve, { bins: 0 }), /bins must be a positive integer/);
  assert.throws(() => logBins(curve, { kMin: 200 }), /kMin must lie in \(0, 200\)/);
  const reversed: DeltaCurve = { ...curve, k: curve.k.slice().reverse() };
  assert.throws(() => logBins(reversed), /curve.k must increase/);
});

Deno.test("fitRate: an exact power law gives p and C exactly", () => {
  for (const p of [2, 1.5, 0.5]) {
    for (const C of [3, 1e-4]) {
      const curve = exactCurve(3000, (k) => C * k ** -p, 3);
      const fit = fitRate(curve);
      // float64 Δ fitted at the effective centres: only rounding remains.
      assert.ok(Math.abs(fit.p - p) <= 1e-12, `p ${fit.p}, expected ${p}`);
      assert.ok(Math.abs(fit.c - Math.log(C)) <= 1e-10, `c ${fit.c}, expected ${Math.log(C)}`);
      assert.ok(fit.standardError <= 1e-12, `standard error ${fit.standardError}`);
      // The bootstrap works on float32 D (relative rounding 2^-24 of D, 2^-23 of D^2): identical
      // rows make every replicate the same curve, within ~1e-7 in log Δ.
      const [lo, hi] = fit.interval!;
      assert.ok(lo <= p + 1e-6 && hi >= p - 1e-6 && hi - lo <= 1e-6, `interval [${lo}, ${hi}]`);
      assert.equal(fit.failed, 0);
      assert.equal(fit.tailStart, 30); // kMax / 100
      assert.deepEqual(fit.kRange, [30, 3000]);
      assert.ok(fit.bins >= 35 && fit.bins <= 40, `${fit.bins} bins`);
    }
  }
  // The plain geometric bin centre would be off: a bin's mean of k^-p is not the power law at
  // its geometric centre, and the gap changes from bin to bin with the integers it holds.
  const curve = exactCurve(1000, (k) => k ** -2, 1);
  const b = logBins(curve, { kMin: 10 });
  const x = Array.from(b.k, Math.log), y = Array.from(b.delta, Math.log);
  const mx = x.reduce((a, v) => a + v) / x.length, my = y.reduce((a, v) => a + v) / y.length;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < x.length; i++) {
    [sxy, sxx] = [sxy + (x[i] - mx) * (y[i] - my), sxx + (x[i] - mx) ** 2];
  }
  assert.ok(Math.abs(-sxy / sxx - 2) > 1e-5, `geometric centres give ${-sxy / sxx}`);
  assert.ok(Math.abs(fitRate(curve).p - 2) <= 1e-12);
});

Deno.test("fitRate on noisy power laws: p near the truth, within its bootstrap interval", () => {
  for (
    const [p, points, seed] of [[2, 32, 11], [1.5, 64, 12], [2, 128, 13], [1.5, 16, 14]] as const
  ) {
    const curve = powerLawCurve({ points, n: 1000, C: 2, p, seed });
    const fit = fitRate(curve);
    const [lo, hi] = fit.interval!;
    const what = `p = ${p}, T = ${points}: fit ${fit.p} in [${lo}, ${hi}]`;
    assert.ok(lo < fit.p && fit.p < hi, `${what}: the estimate lies inside its interval`);
    // 4 standard errors (the bootstrap's), a bound the sampling error passes with
    // probability ~1 - 6e-5; the bias of log(mean) is corrected, so nothing else is allowed for.
    assert.ok(Math.abs(fit.p - p) <= 4 * sigma([lo, hi]), `${what}: within 4 sigma of truth`);
    // Sampling error of p here: ~0.026 at T = 16 down to ~0.008 at T = 128 (measured over 200
    // seeds); the interval must be of that size, neither degenerate nor useless.
    assert.ok(
      sigma([lo, hi]) > 0.003 && sigma([lo, hi]) < 0.06,
      `${what}: sigma ${sigma([lo, hi])}`,
    );
    assert.ok(fit.standardError > 0 && Number.isFinite(fit.standardError));
    assert.ok(Math.abs(fit.c - Math.log(2)) <= 0.5, `${what}: c ${fit.c}`);
  }
});

Deno.test("fitRate intervals cover the true p at about the stated rate", () => {
  // 30 independent curves (T = 64, k up to 300). Over 200 seeds the percentile interval covered
  // 92-93% at T = 64 (below 95%: D^2 is heavy-tailed, and the bootstrap variance of a mean of T
  // points is short by (T - 1) / T). 24 or more of 30: fails with probability < 3% at 92%
  // coverage, passes with probability < 2% if the intervals covered only 60%.
  let covered = 0;
  for (let s = 0; s < 30; s++) {
    const fit = fitRate(powerLawCurve({ points: 64, n: 300, C: 1, p: 2, seed: 100 + s }), {
      bootstrap: 100,
    });
    if (fit.interval![0] <= 2 && 2 <= fit.interval![1]) covered++;
  }
  assert.ok(covered >= 24, `${covered} of 30 intervals cover p = 2`);
});

Deno.test("fitRate is unbiased at small T (the log of a mean is corrected)", () => {
  // T = 8: log of a bin's mean Δ is biased low by ~SE^2 / (2 Δ^2), most where bins hold few k,
  // which pulled p low by ~0.025 (0.6 of its standard error) before the correction; measured
  // after it: -0.005. Over 60 curves the mean error must be within 3 of its standard errors.
  const errors = Array.from(
    { length: 60 },
    (_, s) =>
      fitRate(powerLawCurve({ points: 8, n: 600, C: 1, p: 2, seed: 300 + s }), {
        bootstrap: 0,
      }).p - 2,
  );
  const mean = errors.reduce((a, v) => a + v) / errors.length;
  const sd = Math.sqrt(errors.reduce((a, v) => a + (v - mean) ** 2, 0) / (errors.length - 1));
  const se = sd / Math.sqrt(errors.length);
  assert.ok(Math.abs(mean) <= 3 * se, `mean error of p ${mean}, its standard error ${se}`);
});

Deno.test("fitRate intervals shrink as T grows (about as T^-1/2)", () => {
  const widths = [16, 64, 256].map((points) => {
    const [lo, hi] = fitRate(powerLawCurve({ points, n: 600, C: 1, p: 2, seed: 7 + points }))
      .interval!;
    return hi - lo;
  });
  assert.ok(widths[0] > widths[1] && widths[1] > widths[2], `widths ${widths}`);
  // 16x the points: width / 4 expected; a width from 200 replicates on one curve scatters by
  // ~20% at T = 16, so allow 2.5 to 6.5.
  const ratio = widths[0] / widths[2];
  assert.ok(ratio > 2.5 && ratio < 6.5, `width ratio T = 16 : 256 is ${ratio}`);
});

Deno.test("fitRate bootstrap is reproducible for a seed and changes with it", () => {
  const curve = powerLawCurve({ points: 24, n: 500, C: 1, p: 2, seed: 21 });
  const a = fitRate(curve, { seed: 5 }), b = fitRate(curve, { seed: 5 });
  assertBitwiseEqual(b.replicates.p, a.replicates.p, "replicate p");
  assertBitwiseEqual(b.replicates.c, a.replicates.c, "replicate c");
  assert.deepEqual(b.interval, a.interval);
  const other = fitRate(curve, { seed: 6 });
  assert.equal(other.p, a.p, "the point estimate does not depend on the seed");
  assert.notDeepEqual(other.interval, a.interval);
  // Replicate r depends only on (seed, r): 50 replicates are the first 50 of 200.
  const short = fitRate(curve, { seed: 5, bootstrap: 50 });
  assertBitwiseEqual(short.replicates.p, a.replicates.p.subarray(0, 50), "prefix");
  const none = fitRate(curve, { bootstrap: 0 });
  assert.equal(none.interval, null);
  assert.equal(none.p, a.p);
});

Deno.test("fitRate's default tail keeps the pre-asymptotic small k out", () => {
  // Losses independent across samples: Δ_k = σ^2 / ((k - 1) k), local slope 2 + 1 / (k - 1).
  const curve = exactCurve(10_000, (k) => 1 / ((k - 1) * k), 1);
  const fit = fitRate(curve, { bootstrap: 0 });
  assert.equal(fit.tailStart, 100);
  assert.deepEqual(fit.kRange, [100, 10_000]);
  assert.ok(Math.abs(fit.p - 2) < 0.003, `default tail p ${fit.p}`);
  const all = fitRate(curve, { bootstrap: 0, tailStart: 2 });
  assert.ok(all.p - 2 > 0.03, `whole range p ${all.p}`);
  // Under three decades measured, the tail starts at k = 10.
  assert.equal(fitRate(exactCurve(300, (k) => k ** -2, 1), { bootstrap: 0 }).tailStart, 10);
});

Deno.test("fitRate on differences of a real loss matrix (curveFromDifferences layout)", () => {
  // Uniform losses l[t, i] in (0, 1], independent: Δ_k = (1/12) / ((k - 1) k) exactly.
  const curve = iidLossCurve(64, 1500, 31);
  const expected = exactCurve(1500, (k) => (1 / 12) / ((k - 1) * k), 1);
  const truth = fitRate(expected, { bootstrap: 0 });
  const fit = fitRate(curve);
  const what = `fit p ${fit.p} in [${fit.interval}], expected-curve p ${truth.p}`;
  assert.ok(Math.abs(fit.p - truth.p) <= 4 * sigma(fit.interval!), what);
  // The expected curve's local slope is 2 + 1 / (k - 1): over the default tail [15, 1500] the
  // fitted p is 2.011.
  assert.ok(Math.abs(truth.p - 2.011) < 0.001, what);
  const cs = fit.replicates.c.slice().sort();
  const sigmaC = sigma([quantile(cs, 0.025), quantile(cs, 0.975)]);
  assert.ok(Math.abs(fit.c - truth.c) <= 4 * sigmaC, `c ${fit.c} vs ${truth.c} (sigma ${sigmaC})`);
});

Deno.test("fitRate leaves out and counts replicates where a resampled bin is 0", () => {
  // 3 points; past k = 500 only point 0 has D != 0, so a resample without it (probability
  // (2/3)^3 = 0.30) has Δ = 0 there and no log: ~59 of 200 fail.
  const base = exactCurve(1000, (k) => k ** -2, 3), m = base.k.length;
  const d = base.differences.slice(), delta = base.delta.slice();
  for (let j = 0; j < m; j++) {
    if (base.k[j] <= 500) continue;
    d[m + j] = d[2 * m + j] = 0;
    delta[j] = d[j] * d[j] / 3;
  }
  const fit = fitRate({ ...base, differences: d, delta });
  assert.ok(fit.failed > 35 && fit.failed < 85, `${fit.failed} failed`);
  const nan = fit.replicates.p.filter(Number.isNaN).length;
  assert.equal(nan, fit.failed);
  assert.ok(fit.interval !== null && fit.interval.every(Number.isFinite), `${fit.interval}`);
});

Deno.test("fitRate rejects tails it cannot fit, with the fix in the message", () => {
  const curve = powerLawCurve({ points: 4, n: 1000, C: 1, p: 2, seed: 3 });
  assert.throws(
    () => fitRate(curve, { tailStart: 999 }),
    /at least 3 non-empty log bins with k >= tailStart, got 2 .*lower tailStart, raise bins, or measure a larger k range/,
  );
  assert.throws(() => fitRate(curve, { tailStart: 1000 }), /tailStart 1000 is outside/);
  assert.throws(() => fitRate(curve, { tailStart: 1 }), /tailStart 1 is outside/);
  const short = exactCurve(10, (k) => k ** -2, 1);
  assert.throws(() => fitRate(short), /default tail starts at k = 10: measure k up to 12/);
  assert.throws(() => fitRate(curve, { bootstrap: -1 }), /bootstrap must be a non-negative/);
  assert.throws(() => fitRate(curve, { seed: 0.5 }), /seed must be a non-negative/);
  const zero = exactCurve(1000, (k) => (k > 500 ? 0 : k ** -2), 1);
  assert.throws(() => fitRate(zero), /binned Δ is 0 at k ≈ .*positive finite Δ/);
});

Deno.test("bootstrap replicates of an antithetic curve draw its pairs whole", () => {
  const plain = curveFromDifferences(randomArray(12 * 5, 3), 12);
  const pairs = curveFromDifferences(randomArray(12 * 5, 3), 12, { estimator: "antithetic" });
  for (let r = 0; r < 20; r++) {
    const rows = resampleRows(pairs, 1, r), draws = resampleCounts(6, 1, r);
    assert.equal(rows.reduce((s, c) => s + c, 0), 12);
    for (let t = 0; t < 12; t++) assert.equal(rows[t], draws[t >> 1]);
    assert.deepEqual(resampleRows(plain, 1, r), resampleCounts(12, 1, r));
  }
});

Deno.test("rateSensitivity: binned and per-k fits, with and without robust weights", () => {
  const curve = powerLawCurve({ points: 64, n: 1000, C: 2, p: 2, seed: 21 });
  const clean = rateSensitivity(curve, { bootstrap: 50 });
  assert.deepEqual(
    clean.variants.map((v) => `${v.method}${v.robust ? " robust" : ""}`),
    ["binned", "per-k", "binned robust", "per-k robust"],
  );
  for (const v of clean.variants) {
    assert.equal(v.error, null);
    assert.ok(Math.abs(v.fit!.p - 2) < 0.05, `${v.method} ${v.robust}: p ${v.fit!.p}`);
    assert.ok(v.fit!.interval![0] < v.fit!.p && v.fit!.p < v.fit!.interval![1]);
  }
  assert.ok(clean.spread < 0.06, `spread ${clean.spread}`);
  // Every point sees the same outlying sample at k = 13 (one fixed data order): Δ_13 is 100x
  // its law. It pulls the binned fit up, its bin at k = 13-14 sitting at the end of the lever arm;
  // robust weights put that bin (or that k) aside.
  const m = curve.k.length, d = curve.differences.slice();
  for (let t = 0; t < curve.points; t++) d[t * m + 11] *= 10;
  const spiked = curveFromDifferences(d, curve.points);
  const hit = rateSensitivity(spiked, { bootstrap: 50 });
  const p = (method: string, robust: boolean) =>
    hit.variants.find((v) => v.method === method && v.robust === robust)!.fit!.p;
  assert.ok(p("binned", false) > 2.08, `binned p ${p("binned", false)}`);
  assert.ok(Math.abs(p("binned", true) - 2) < 0.05, `robust binned p ${p("binned", true)}`);
  assert.ok(Math.abs(p("per-k", true) - 2) < 0.05, `robust per-k p ${p("per-k", true)}`);
  assert.ok(hit.spread > 0.08, `spread ${hit.spread}`);
  const robust = fitRate(spiked, { robust: true, bootstrap: 0 });
  assert.ok(robust.weights.some((w) => w === 0), "the outlying bin gets weight 0");
  assert.ok(fitRate(spiked, { bootstrap: 0 }).weights.every((w) => w === 1));
});
