/**
 * Tests of sample sufficiency (src/landscape/sufficiency.ts): exact crossings on noiseless
 * curves, the "stays below" rule, honest bootstrap intervals, extrapolation from the rate fit.
 */
import assert from "node:assert/strict";
import { fitRate, logBins } from "../src/landscape/rate.ts";
import { sufficiency } from "../src/landscape/sufficiency.ts";
import { exactCurve, iidLossCurve, powerLawCurve } from "./synthetic_delta.ts";

/** The first k (from 2) with f(k) < threshold, by brute force. */
function firstBelow(f: (k: number) => number, threshold: number): number {
  let k = 2;
  while (!(f(k) < threshold)) k++;
  return k;
}

Deno.test("sufficiency finds the exact crossing k of a decreasing noiseless curve", () => {
  const f = (k: number) => 3 * k ** -1.7;
  const curve = exactCurve(5000, f, 2);
  for (const target of [3, 17, 100, 731, 4000, 5000]) {
    // A threshold between Δ_{target-1} and Δ_target (relative gap >= 1.7 / 5000 >> the float32
    // rounding 2^-23 of the bootstrap's D^2).
    const threshold = Math.sqrt(f(target - 1) * f(target));
    assert.equal(firstBelow(f, threshold), target);
    // 7 bins: the last holds k = 1634..5000, so 4000 and 5000 are found inside the last bin.
    for (const bins of [40, 7, 300]) {
      const r = sufficiency(curve, threshold, { bins });
      assert.equal(r.status, "reached", `target ${target}, ${bins} bins`);
      if (r.status !== "reached") continue;
      assert.equal(r.k, target, `target ${target}, ${bins} bins`);
      assert.equal(r.fromStart, false);
      assert.deepEqual(r.interval, [target, target], "identical rows: every replicate agrees");
      assert.equal(r.unreached, 0);
      assert.equal(r.replicates, 200);
      assert.deepEqual(r.measured, [2, 5000]);
    }
  }
  // Already below at the first k considered: k is that k, flagged as an upper bound.
  const start = sufficiency(curve, 2 * f(2));
  assert.ok(start.status === "reached" && start.k === 2 && start.fromStart);
  const late = sufficiency(curve, 2 * f(10), { kMin: 10 });
  assert.ok(late.status === "reached" && late.k === 10 && late.fromStart);
  assert.deepEqual(late.measured, [10, 5000]);
});

Deno.test("sufficiency: Δ must stay below; a rise over bins moves k past it, a one-k spike not", () => {
  const threshold = Math.sqrt(99 ** -2 * 100 ** -2); // k^-2 crosses it at k = 100
  const bump = exactCurve(5000, (k) => (k >= 400 && k <= 600 ? 10 * threshold : k ** -2), 2);
  const r = sufficiency(bump, threshold);
  assert.ok(r.status === "reached" && r.k === 601, `after the bump: ${JSON.stringify(r)}`);
  // One k at twice the threshold among the ~300 k of its bin leaves the bin mean far below.
  const spike = exactCurve(5000, (k) => (k === 2000 ? 2 * threshold : k ** -2), 2);
  const s = sufficiency(spike, threshold);
  assert.ok(s.status === "reached" && s.k === 100, `spike ignored: ${JSON.stringify(s)}`);
});

Deno.test("sufficiency on noisy curves: interval around the crossing, reproducible by seed", () => {
  // E[Δ_k] = k^-2 crosses 1/500^2 at k = 500 (first k below: 501).
  const threshold = 500 ** -2;
  for (const [points, seed] of [[32, 1], [128, 2]] as const) {
    const curve = powerLawCurve({ points, n: 2000, C: 1, p: 2, seed });
    const r = sufficiency(curve, threshold);
    assert.ok(r.status === "reached", `T = ${points}`);
    const [lo, hi] = r.interval!;
    const what = `T = ${points}: k ${r.k} in [${lo}, ${hi}]`;
    assert.ok(lo <= r.k && r.k <= hi, what);
    // Δ_k carries a relative error sqrt(2 / T) (25% at T = 32), so k, with Δ ∝ k^-2, one of
    // about half that; over 60 seeds at each T the interval held k = 501 in 119 of 120 and was
    // 4-18% of k wide. Here: it covers 501 and is narrower than 40% of k.
    assert.ok(lo <= 501 && 501 <= hi, what);
    assert.ok(hi - lo < 0.4 * 501 && hi - lo > 0, what);
    assert.equal(r.unreached, 0);
    const again = sufficiency(curve, threshold);
    assert.deepEqual(again, r, "same seed, same result");
    const other = sufficiency(curve, threshold, { seed: 1 });
    assert.ok(other.status === "reached" && other.k === r.k);
    assert.notDeepEqual(other.interval, r.interval, "another seed resamples differently");
  }
});

Deno.test("sufficiency counts replicates that never cross and says so with hi = Infinity", () => {
  // 20 identical rows of Δ = k^-2 except the last bin, where row 0 alone carries
  // D^2 = 0.9 * 20 * threshold: the sample's last bin sits at 0.9 of the threshold, so the
  // curve crosses (at k = 100), but a resample that draws row 0 twice or more puts the last bin
  // at or above the threshold and never crosses: probability 1 - (19/20)^20 - (19/20)^19 = 0.26.
  const points = 20, threshold = Math.sqrt(99 ** -2 * 100 ** -2);
  const base = exactCurve(1000, (k) => k ** -2, points);
  const bins = logBins(base);
  const lastStart = bins.start[bins.k.length - 1], m = base.k.length;
  const d = base.differences.slice(), delta = base.delta.slice();
  for (let j = lastStart; j < m; j++) {
    d[j] = Math.sqrt(0.9 * points * threshold);
    delta[j] = (d[j] * d[j] + (points - 1) * base.k[j] ** -2) / points;
  }
  const r = sufficiency({ ...base, differences: d, delta }, threshold);
  assert.ok(r.status === "reached" && r.k === 100, JSON.stringify(r));
  // Binomial(200, 0.26): 52 expected, sd 6.2.
  assert.ok(r.unreached > 30 && r.unreached < 75, `${r.unreached} of 200 never cross`);
  assert.deepEqual(r.interval, [100, Infinity]);
});

Deno.test("sufficiency extrapolates k* = (C / threshold)^(1/p) beyond the measured range", () => {
  const exact = exactCurve(2000, (k) => 3 * k ** -2, 2);
  const threshold = 3 * 50_000 ** -2;
  const r = sufficiency(exact, threshold, { fit: fitRate(exact) });
  assert.equal(r.status, "extrapolated");
  if (r.status !== "extrapolated") return;
  assert.ok(Math.abs(r.k / 50_000 - 1) < 1e-9, `k* ${r.k}`);
  const [lo, hi] = r.interval!;
  assert.ok(lo <= r.k * (1 + 1e-6) && hi >= r.k * (1 - 1e-6) && hi / lo < 1 + 1e-5, `${lo}, ${hi}`);
  assert.equal(r.unreached, 0);
  assert.deepEqual(r.measured, [2, 2000]);

  // Noisy: E[Δ_k] = k^-2, threshold 1e-8 -> k* = 10^4, five times the largest k measured.
  const noisy = powerLawCurve({ points: 64, n: 2000, C: 1, p: 2, seed: 9 });
  const fit = fitRate(noisy);
  const e = sufficiency(noisy, 1e-8, { fit });
  assert.equal(e.status, "extrapolated");
  if (e.status !== "extrapolated") return;
  const [elo, ehi] = e.interval!;
  assert.ok(elo < e.k && e.k < ehi, `${e.k} in [${elo}, ${ehi}]`);
  // log k* = (c - log threshold) / p: within 4 bootstrap standard errors of log 10^4.
  const sigmaLog = Math.log(ehi / elo) / (2 * 1.96);
  assert.ok(Math.abs(Math.log(e.k / 1e4)) <= 4 * sigmaLog, `k* ${e.k}, sigma(log) ${sigmaLog}`);
  assert.equal(e.p, fit.p);
  assert.equal(e.replicates, 200);

  // Without a fit the same question is answered "not reached", with the reason.
  const none = sufficiency(noisy, 1e-8);
  assert.equal(none.status, "not-reached");
  assert.equal(none.k, null);
  assert.match(none.status === "not-reached" ? none.reason : "", /no rate fit was given/);
  // A fit whose Δ does not decrease cannot extrapolate.
  const rising = exactCurve(200, (k) => k ** 0.5, 1);
  const up = sufficiency(rising, 1, { fit: fitRate(rising) });
  assert.ok(up.status === "not-reached" && /p = -0\.\d+ does not make Δ decrease/.test(up.reason));
});

Deno.test("sufficiency on a real loss matrix's differences", () => {
  // Δ_k = (1/12) / ((k - 1) k) in expectation; threshold at k = 300 of that curve.
  const f = (k: number) => (1 / 12) / ((k - 1) * k);
  const threshold = Math.sqrt(f(299) * f(300));
  const curve = iidLossCurve(64, 1500, 4);
  const r = sufficiency(curve, threshold);
  assert.ok(r.status === "reached", JSON.stringify(r));
  assert.ok(r.interval![0] <= 300 && 300 <= r.interval![1], JSON.stringify(r));
  assert.ok(Math.abs(r.k / 300 - 1) < 0.2, `k ${r.k}`);
});

Deno.test("sufficiency rejects bad thresholds and options", () => {
  const curve = exactCurve(100, (k) => k ** -2, 2);
  for (const bad of [0, -1, NaN, Infinity]) {
    assert.throws(() => sufficiency(curve, bad), /threshold must be a positive finite Δ/);
  }
  assert.throws(() => sufficiency(curve, 1e-3, { bootstrap: 2.5 }), /bootstrap must be/);
  assert.throws(() => sufficiency(curve, 1e-3, { seed: -1 }), /seed must be/);
  assert.throws(() => sufficiency(curve, 1e-3, { kMin: 100 }), /kMin must lie in/);
  const noBoot = sufficiency(curve, 1e-3, { bootstrap: 0 });
  assert.ok(noBoot.status === "reached" && noBoot.interval === null && noBoot.k === 32);
});
