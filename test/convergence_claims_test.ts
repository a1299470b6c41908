/**
 * The report's Δk claims on synthetic results with known answers: Fig. 5 judged on the
 * landscape term and its σ exponent, the rate judged on four fits, sufficiency naming the
 * dominant term, and the Monte-Carlo diagnostics.
 */
import assert from "node:assert/strict";
import {
  diagnosticBlocks,
  rateBlocks,
  rateClaims,
  sweepClaims,
} from "../src/experiments/convergence_claims.ts";
import type { CurveSummary, RateResult, SweepResult } from "../src/experiments/convergence.ts";
import type { FitRecord } from "../src/experiments/curves.ts";
import { PRESETS } from "../src/experiments/presets.ts";
import { sigmaScaling } from "../src/landscape/sigma_scaling.ts";
import { toMarkdown } from "../src/report/document.ts";

function fit(p: number, method: "binned" | "per-k" = "binned", robust = false): FitRecord {
  return { method, robust, p, c: 0, interval: [p - 0.1, p + 0.1], kRange: [10, 1000], error: null };
}

/** A curve whose level has data term `data` (exact) and landscape term `landscape` ± `se`. */
function curve(label: string, data: number, landscape: number, se: number): CurveSummary {
  const e = (value: number, s: number) => ({ value, se: s });
  return {
    label,
    estimator: "antithetic",
    fit: fit(2),
    fits: [fit(2), fit(2, "per-k"), fit(2, "binned", true), fit(2, "per-k", true)],
    spread: 0,
    level: {
      kRange: [10, 1000],
      delta: e(data + landscape, se),
      data: e(data, 0),
      landscape: e(landscape, se),
      varianceRatio: 40,
    },
    tails: {
      share: 0.05,
      shareSe: 0.01,
      ess: 40,
      essSe: 3,
      draws: 64,
      worstK: 11,
      worstShare: 0.5,
      worstEss: 3,
      warning: null,
    },
    quietUnits: null,
    sufficiency: null,
    dominant: null,
    at: [{ k: 10, delta: 1, se: 0 }, { k: 100, delta: 0.01, se: 0 }, {
      k: 1000,
      delta: 1e-4,
      se: 0,
    }],
    p: 2,
    interval: [1.9, 2.1],
    kRange: [10, 1000],
  };
}

/** A σ sweep with the data term 1 and landscape terms `ls` (10% errors) at σ = `sigmas`. */
function sweep(sigmas: number[], ls: number[], se = (l: number) => 0.1 * Math.abs(l)): SweepResult {
  const sigma = sigmas.map((s, i) => curve(`σ = ${s}`, 1, ls[i], se(ls[i])));
  const levels = sigmas.map((s, i) => ({ sigma: s, value: ls[i], se: se(ls[i]) }));
  return {
    sigma,
    dim: [curve("dim = 1", 1, 0.01, 0.001), curve("dim = 32", 1, 0.011, 0.001)],
    scaling: { ...sigmaScaling(levels), levels },
    files: [],
  };
}

const claim = (cs: ReturnType<typeof sweepClaims>, id: string) => cs.find((c) => c.id === id)!;

Deno.test("fig5: the σ claim is judged on the landscape term, not on Δk", () => {
  // The data term is 99% of Δk at σ = 0.001: Δk grows only 1.1x to σ = 0.01, its landscape
  // term 100x (z ≈ 9): σ matters, through the landscape term.
  const strong = sweepClaims(sweep([0.001, 0.01], [0.001, 0.1]));
  const sigma = claim(strong, "fig5-sigma");
  assert.equal(sigma.verdict, "holds", sigma.measured);
  assert.equal(sigma.numbers.landscape_low, 0.001);
  assert.ok(Math.abs(sigma.numbers.ratio - 100) < 1e-9);
  assert.ok(sigma.numbers.data_share_low > 0.99);
  assert.match(sigma.measured, /landscape term/);
  assert.match(sigma.measured, /99\.9% of Δk at σ = 0\.001/);
  // Landscape terms equal within noise: σ does not change what the landscape adds.
  const flat = claim(sweepClaims(sweep([0.001, 0.01], [0.01, 0.0101])), "fig5-sigma");
  assert.equal(flat.verdict, "does not hold", flat.measured);
});

Deno.test("fig5: the landscape term's σ exponent against the second-order σ²", () => {
  const sigmas = [0.001, 0.003, 0.01, 0.03];
  const quadratic = claim(
    sweepClaims(sweep(sigmas, sigmas.map((s) => s * s))),
    "fig5-sigma-scaling",
  );
  assert.equal(quadratic.verdict, "holds", quadratic.measured);
  assert.ok(Math.abs(quadratic.numbers.exponent_small - 2) < 1e-9);
  const quartic = claim(
    sweepClaims(sweep(sigmas, sigmas.map((s) => s ** 4))),
    "fig5-sigma-scaling",
  );
  assert.equal(quartic.verdict, "does not hold", quartic.measured);
  // Unresolved at the smallest σ: left out and named; with one σ left, no verdict.
  const noisy = sweep(sigmas.slice(0, 2), [-1e-7, 9e-6], (l) => (l < 0 ? 1e-6 : 1e-6));
  const c = claim(sweepClaims(noisy), "fig5-sigma-scaling");
  assert.equal(c.verdict, "inconclusive", c.measured);
  assert.match(
    c.measured,
    /left out: σ = 0\.001 \(landscape term -1\.00e-7 ± 1\.00e-6 is not resolved/,
  );
  // dim is judged on the landscape term too.
  const dim = claim(sweepClaims(noisy), "fig5-dim");
  assert.equal(dim.numbers.landscape_dim_high, 0.011);
  assert.equal(dim.verdict, "holds", dim.measured);
});

function rate(fits: FitRecord[]): RateResult {
  const main = { ...curve("main", 1, 0.1, 0.01), fits, fit: fits[0], p: fits[0].p };
  return {
    main,
    fixedOrder: curve("fixed", 1, 0.1, 0.01),
    plain: curve("plain", 1, 0.1, 0.01),
    theory: [],
    files: [],
  };
}

Deno.test("rate: a verdict only where all four fits agree; all four are reported", () => {
  const agree = rateClaims(
    rate([fit(2.05), fit(1.95, "per-k"), fit(2, "binned", true), fit(1.9, "per-k", true)]),
  );
  assert.equal(agree[0].verdict, "holds");
  assert.equal(agree[0].numbers.p_per_k, 1.95);
  assert.match(agree[0].measured, /per-k 1\.95, robust binned 2, robust per-k 1\.9/);
  // One fixed order's outlying sample: the binned fit says 1.69, the per-k fits 1.9.
  const split = rateClaims(
    rate([fit(1.69), fit(1.9, "per-k"), fit(1.7, "binned", true), fit(1.9, "per-k", true)]),
  );
  assert.equal(split[0].verdict, "inconclusive", split[0].measured);
  assert.match(split[0].measured, /their verdicts differ/);
});

Deno.test("rate section: sufficiency names the term that dominates at k*", () => {
  const r = rate([fit(2), fit(2, "per-k"), fit(2, "binned", true), fit(2, "per-k", true)]);
  r.main.sufficiency = {
    status: "reached",
    threshold: 1e-7,
    measured: [2, 1001],
    k: 400,
    fromStart: false,
    interval: [350, 450],
    replicates: 200,
    unreached: 0,
  };
  const e = (value: number, se: number) => ({ value, se });
  r.main.dominant = {
    k: 400,
    kRange: [321, 500],
    delta: e(1e-7, 1e-9),
    data: e(9.6e-8, 0),
    landscape: e(4e-9, 1e-9),
    varianceRatio: 30,
    term: "data term",
    dataShare: 0.96,
  };
  const md = toMarkdown(rateBlocks(r, PRESETS.default));
  assert.match(
    md,
    /from k = 400 on \(95% CI 350 to 450\)\. At k\* = 400 the data term dominates: the data term a_k² is 96% of Δk/,
  );
  assert.match(md, /\| main \| per-k, robust weights \| 2 \|/);
});

Deno.test("diagnostics: variance ratios, heavy-tail warnings and quiet batch-norm units", () => {
  const calm = curve("σ = 0.01", 1, 0.1, 0.01);
  const loud = {
    ...curve("σ = 0.001", 1, 0.1, 0.01),
    quietUnits: "batch-norm units with running variance below 1e-12: layer 3 units 5, 9 of 128",
  };
  loud.tails = { ...loud.tails, warning: "a few draws dominate the landscape term" };
  const md = toMarkdown(
    diagnosticBlocks(
      [calm, loud, { ...calm, label: "again", quietUnits: loud.quietUnits }],
      PRESETS.default,
    ),
  );
  assert.match(md, /\| σ = 0\.01 \| 40x \| 5% ± 1% \| 40 ± 3 of 64 \| k = 11: 50%, 3 \|/);
  assert.match(md, /\*\*Warning\*\*: σ = 0\.001: a few draws dominate the landscape term\./);
  assert.equal(md.match(/layer 3 units 5, 9 of 128/g)?.length, 1, "each model's units once");
  assert.doesNotMatch(md, /plain points would have won/);
  const lost = { ...calm, label: "σ = 0.1" };
  lost.level = { ...lost.level, varianceRatio: 0.5 };
  assert.match(
    toMarkdown(diagnosticBlocks([lost], PRESETS.default)),
    /σ = 0\.1: plain points would have won \(variance ratio 0\.5x\); rerun with `--estimator plain`/,
  );
  const claims = sweepClaims({ ...sweep([0.001, 0.01], [0.001, 0.1]), sigma: [loud, calm] });
  assert.match(
    claim(claims, "fig5-sigma").measured,
    /Heavy tails in σ = 0\.001: see the Monte-Carlo diagnostics/,
  );
});
