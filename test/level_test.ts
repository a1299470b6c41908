/** Levels of Δk curves and their terms (src/landscape/level.ts) and the σ scaling fit. */
import assert from "node:assert/strict";
import { curveFromDifferences } from "../src/landscape/delta.ts";
import { curveLevel, dominantTerm, termMeans } from "../src/landscape/level.ts";
import { sigmaScaling } from "../src/landscape/sigma_scaling.ts";
import { drawTail } from "../src/landscape/tails.ts";
import { normals } from "./synthetic_delta.ts";

/** D[t, j] = a_j + s_t: a landscape offset shared by every k of a point (fully correlated). */
function sharedOffsetCurve(points: number, m: number, estimator: "plain" | "antithetic") {
  const z = normals(points, 3), a = new Float32Array(m), d = new Float32Array(points * m);
  for (let j = 0; j < m; j++) a[j] = 1 / (j + 2);
  for (let t = 0; t < points; t++) {
    // Antithetic pairs: the second row takes the opposite offset of the first.
    const s = 5e-4 * (estimator === "antithetic" && t % 2 ? -z[t - 1] : z[t]);
    for (let j = 0; j < m; j++) d[t * m + j] = a[j] + s;
  }
  return curveFromDifferences(d, points, { estimator, center: a });
}

Deno.test("termMeans: data + landscape reproduce Δ; errors over draws, not over k", () => {
  const curve = sharedOffsetCurve(64, 200, "plain");
  const level = curveLevel(curve);
  assert.deepEqual(level.kRange, [10, 201]);
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.abs(b);
  assert.ok(close(level.data.value + level.landscape.value, level.delta.value));
  // The level is the mean of k² Δ_k over k >= 10, and its data part that of k² a_k².
  let mean = 0, data = 0;
  for (let j = 8; j < 200; j++) {
    mean += curve.k[j] ** 2 * curve.delta[j] / 192;
    data += curve.k[j] ** 2 * curve.terms!.data[j] / 192;
  }
  assert.ok(close(level.delta.value, mean) && close(level.data.value, data));
  assert.equal(level.data.se, 0, "one data order: the data term is exact");
  // Every point's offset moves all its k together: the standard error is that of the points'
  // own levels, far above what per-k errors combined as independent would claim.
  const own = new Float64Array(64);
  const m = curve.k.length;
  for (let t = 0; t < 64; t++) {
    for (let j = 8; j < m; j++) own[t] += curve.k[j] ** 2 * curve.differences[t * m + j] ** 2 / 192;
  }
  const mu = own.reduce((s, v) => s + v) / 64;
  const sd = Math.sqrt(own.reduce((s, v) => s + (v - mu) ** 2, 0) / 63);
  assert.ok(Math.abs(level.delta.se - sd / 8) <= 1e-9 * sd, `${level.delta.se} vs ${sd / 8}`);
  let independent = 0;
  for (let j = 8; j < m; j++) independent += (curve.k[j] ** 2 * curve.se[j]) ** 2;
  assert.ok(level.delta.se > 5 * Math.sqrt(independent) / 192, "correlated k");
  assert.equal(level.varianceRatio, null);
  assert.throws(() => termMeans(curve, { kFrom: 500 }), /no k of the curve \(2 to 201\)/);
});

Deno.test("termMeans: antithetic pairs cancel an odd offset; the variance ratio says by how much", () => {
  const pairs = curveLevel(sharedOffsetCurve(64, 200, "antithetic"));
  // D² = a² + 2as + s²: within a pair the odd 2as cancels, so the pairs' error is that of s².
  assert.ok(pairs.varianceRatio! > 20, `variance ratio ${pairs.varianceRatio}`);
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.abs(b);
  assert.ok(close(pairs.data.value + pairs.landscape.value, pairs.delta.value));
  assert.ok(pairs.landscape.value > 0 && pairs.landscape.se < pairs.landscape.value);
  // Around k = 100 the data term a_k² = 1e-4 dwarfs the landscape term s² ≈ 2.5e-7.
  const at = dominantTerm(sharedOffsetCurve(64, 200, "antithetic"), 100);
  assert.equal(at.term, "data term");
  assert.deepEqual(at.kRange, [80, 125]);
  assert.ok(at.dataShare > 0.99 && at.dataShare <= 1, `${at.dataShare}`);
});

Deno.test("sigmaScaling: the exponent of level ∝ σ^q, unresolved levels left out", () => {
  const levels = [0.001, 0.003, 0.01, 0.03].map((sigma) => ({
    sigma,
    value: 5 * sigma ** 2,
    se: 0.1 * 5 * sigma ** 2,
  }));
  const s = sigmaScaling(levels);
  assert.ok(Math.abs(s.all!.exponent - 2) < 1e-12 && Math.abs(s.small!.exponent - 2) < 1e-12);
  assert.ok(Math.abs(s.all!.c - Math.log(5)) < 1e-10);
  assert.deepEqual(s.small!.sigmas, [0.001, 0.003]);
  // Known errors of 10% in each level: se(q) = 0.1 / sqrt(Σ (log σ - mean)²).
  const x = levels.map((l) => Math.log(l.sigma)), mx = x.reduce((a, b) => a + b) / 4;
  const expected = 0.1 / Math.sqrt(x.reduce((a, v) => a + (v - mx) ** 2, 0));
  assert.ok(Math.abs(s.all!.se - expected) < 1e-12, `${s.all!.se} vs ${expected}`);
  // A level not resolved above zero is left out and named; the small-σ fit moves up.
  const noisy = sigmaScaling([{ sigma: 0.0003, value: -1e-9, se: 2e-9 }, ...levels]);
  assert.deepEqual(noisy.excluded.map((e) => e.sigma), [0.0003]);
  assert.match(noisy.excluded[0].reason, /not resolved above zero/);
  assert.deepEqual(noisy.small!.sigmas, [0.001, 0.003]);
  assert.equal(sigmaScaling(levels.slice(0, 1)).all, null);
});

Deno.test("curveLevel hands out each draw's level, so a dominant draw can be flagged", () => {
  const points = 64, m = 200;
  const a = new Float32Array(m).map((_, j) => 1 / (j + 2));
  const z = normals(points * m, 8), d = new Float32Array(points * m);
  for (let i = 0; i < d.length; i++) d[i] = a[i % m] + 1e-4 * z[i];
  const calm = new Float64Array(32);
  curveLevel(curveFromDifferences(d, points, { estimator: "antithetic", center: a }), 10, calm);
  assert.equal(drawTail(calm, { seed: 1 }).dominated, false);
  // Pair 5 (rows 10 and 11) moves 100x further than the rest at every k: it carries the level.
  for (let j = 0; j < m; j++) d[10 * m + j] = a[j] + 1e-2;
  const loud = new Float64Array(32);
  const level = curveLevel(
    curveFromDifferences(d, points, { estimator: "antithetic", center: a }),
    10,
    loud,
  );
  const sum = loud.reduce((s, v) => s + v, 0) / 32;
  assert.ok(Math.abs(sum - level.landscape.value) <= 1e-9 * Math.abs(sum), "draws average to it");
  const tail = drawTail(loud, { seed: 1 });
  assert.ok(tail.dominated && tail.share.value > 0.9, JSON.stringify(tail));
});
