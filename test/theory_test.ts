import assert from "node:assert/strict";
import { synthetic } from "../src/data/synthetic.ts";
import type { EvalData } from "../src/landscape/loss_matrix.ts";
import { closedFormTerms, closedFormValue, theoryCheck } from "../src/landscape/theory.ts";
import { mlp } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { EPS32, gpuTest, randomArray } from "./helpers.ts";
import { leastSquares } from "./least_squares.ts";
import { augment, lsqA, lsqTerms, quadraticMonteCarlo } from "./reference/curvature.ts";

/** Exact standard error of a Rademacher Hutchinson mean of zᵀMz over `probes` probes. */
function hutchinsonSe(m: Float64Array[], probes: number): number {
  let off = 0;
  m.forEach((row, i) => row.forEach((v, j) => i !== j && (off += v * v)));
  return Math.sqrt(2 * off / probes);
}

Deno.test(
  "the closed form equals a float64 Monte-Carlo E[D²] of the exact quadratic model",
  () => {
    const n = 30;
    const x = augment(randomArray(n * 5, 1, -1, 1), n);
    const ys = randomArray(n, 2, -1, 1);
    const w = Float64Array.from([...randomArray(5, 3, -0.5, 0.5), 0.3]);
    // Every term matters somewhere here: at k = 4, σ = 0.3 the shares are a² 21%, aσ²TrA 6%,
    // σ²|c|² 51%, σ⁴ term 22%; at σ = 1 the σ⁴ term dominates.
    for (const [k, sigma] of [[4, 0.3], [4, 1], [20, 0.05]]) {
      const e = lsqTerms(x, ys, w, k);
      const cf = closedFormValue(
        closedFormTerms({ ...e, traceA: e.trace, traceA2: e.traceOfSquare, sigma }),
      );
      // 200,000 float64 draws: a relative standard error of about 0.3-0.6%, so 3 standard
      // errors catch any term of the formula that is off by more than about 2% of Δ.
      const mc = quadraticMonteCarlo(e.a, e.c, lsqA(x, k), sigma, 200_000, k);
      assert.ok(
        Math.abs(cf - mc.mean) <= 3 * mc.se,
        `k ${k}, σ ${sigma}: closed form ${cf} vs float64 Monte Carlo ${mc.mean} ± ${mc.se}`,
      );
      assert.ok(mc.se < 0.01 * mc.mean, `Monte-Carlo standard error ${mc.se} of ${mc.mean}`);
    }
  },
);

gpuTest(
  "least squares: the theory check's a, |c|², traces and closed form match the exact values, " +
    "and the closed form agrees with Monte Carlo at small and large σ",
  async (gpu) => {
    const { model, data, x, y: ys, w } = await leastSquares(gpu);
    const d = x[0].length;
    // R_i = Σ|w_l x̃_il| + |y_i| bounds |residual_i| and its float32 error / ((d + 4) u).
    const R = x.map((xi, i) => xi.reduce((s, v, l) => s + Math.abs(v * w[l]), 0) + Math.abs(ys[i]));
    const probes = 64;
    for (const [k, sigma] of [[4, 0.3], [20, 0.05]]) {
      const r = await theoryCheck(model, data, { k, sigma, probes, points: 1024, seed: 3 });
      const exact = lsqTerms(x, ys, w, k);
      // a from float32 per-sample losses 1/2 r², each off by at most (d + 5) u R_i²
      // (residual (d + 4) u R_i, squaring and halving one more u): a = (l - L_k) / (k + 1).
      const maxR2 = Math.max(...R.slice(0, k + 1).map((v) => v * v));
      const tolA = 2 * (d + 8) * EPS32 * maxR2 / (k + 1);
      assert.ok(Math.abs(r.a - exact.a) <= tolA, `k ${k}: a ${r.a} vs ${exact.a} (tol ${tolA})`);
      // c_j = (g_next - g_prefix)_j / (k + 1), each gradient coordinate off by at most
      // γ (1/B) Σ|x̃_ij| R_i with γ = (d + B + 8) u (see hessian_test); |c|² then moves by at
      // most 2|c||δc| + |δc|² plus the sum's rounding (d u |c|²).
      let dc2 = 0;
      for (let j = 0; j < d; j++) {
        const g = (idx: number[]) =>
          (d + idx.length + 8) * EPS32 * idx.reduce((s, i) => s + Math.abs(x[i][j]) * R[i], 0) /
          idx.length;
        const dc = (g([k]) + g(Array.from({ length: k }, (_, i) => i))) / (k + 1);
        dc2 += dc * dc;
      }
      const c = Math.sqrt(exact.cNormSquared);
      const tolC = 2 * c * Math.sqrt(dc2) + dc2 + d * EPS32 * exact.cNormSquared;
      assert.ok(
        Math.abs(r.cNormSquared - exact.cNormSquared) <= tolC,
        `k ${k}: |c|² ${r.cNormSquared} vs ${exact.cNormSquared} (tol ${tolC})`,
      );
      // Hutchinson means within 3 exact standard errors (Rademacher variance is known, see
      // hessian_test for why not the sample one).
      const A = lsqA(x, k);
      const A2 = A.map((row, i) => row.map((_, j) => A[i].reduce((s, v, l) => s + v * A[l][j], 0)));
      const seT1 = hutchinsonSe(A, probes), seT2 = hutchinsonSe(A2, probes);
      assert.ok(Math.abs(r.traceA.mean - exact.trace) <= 3 * seT1, `k ${k}: Tr A`);
      assert.ok(Math.abs(r.traceA2.mean - exact.traceOfSquare) <= 3 * seT2, `k ${k}: Tr A²`);
      // The closed form from exact inputs; the check's value must be within 3 of its
      // propagated standard errors of it (the Hutchinson traces are its only noise; a and |c|²
      // are exact to ~1e-6 relative by the bounds above).
      const exactCf = closedFormValue(
        closedFormTerms({ ...exact, traceA: exact.trace, traceA2: exact.traceOfSquare, sigma }),
      );
      assert.ok(
        Math.abs(r.closedForm.value - exactCf) <= 3 * r.closedForm.se,
        `k ${k}, σ ${sigma}: closed form ${r.closedForm.value} ± ${r.closedForm.se}, exact ${exactCf}`,
      );
      // The loss is exactly quadratic, so Monte Carlo estimates the same number at any σ; so
      // do the mean of D (Monte-Carlo standard error sqrt(Var D / T)) and, loosely, its
      // variance (relative standard error about sqrt(2 / T) for near-Gaussian D: 4.4%).
      assert.ok(r.verdict.agree, r.verdict.text);
      const seMean = Math.hypot(r.closedFormMean.se, Math.sqrt(r.monteCarlo.variance / 1024));
      assert.ok(
        Math.abs(r.closedFormMean.value - r.monteCarlo.meanD) <= 3 * seMean,
        `k ${k}: E[D] ${r.closedFormMean.value} vs ${r.monteCarlo.meanD} ± ${seMean}`,
      );
      const seVar = Math.hypot(
        r.closedFormVariance.se,
        Math.sqrt(2 / 1024) * r.monteCarlo.variance,
      );
      assert.ok(
        Math.abs(r.closedFormVariance.value - r.monteCarlo.variance) <= 3 * seVar,
        `k ${k}: Var D ${r.closedFormVariance.value} vs ${r.monteCarlo.variance} ± ${seVar}`,
      );
      assert.equal(r.parameters, d);
      assert.equal(r.probes.redone, 0);
      const sum = r.terms.mean + r.terms.cross + r.terms.gradient + r.terms.curvature;
      assert.ok(Math.abs(sum - r.closedForm.value) <= 1e-12 * Math.abs(sum));
    }
    model.dispose();
  },
);

gpuTest(
  "softmax regression (smooth cross-entropy): at small σ the closed form agrees with Monte " +
    "Carlo for k = 4 and 16, beyond the a² term alone",
  async (gpu) => {
    const dataset = synthetic({ samples: 64, seed: 1 });
    // The mlp builder with no hidden layer: Flatten -> Dense(64 -> 10), 650 parameters.
    const model = new Sequential(gpu, mlp({ inputShape: [1, 8, 8], layers: 0 }));
    model.initialize(3);
    for (const k of [4, 16]) {
      const r = await theoryCheck(model, { dataset, loss: "cross-entropy" }, {
        k,
        sigma: 0.03,
        probes: 32,
        points: 1024,
        seed: 1,
      });
      assert.ok(r.verdict.agree, r.verdict.text);
      // Not a trivial agreement on a² alone: at σ = 0.03 the gradient term is 6% (k = 4) and
      // 33% (k = 16) of Δ (measured), above the Monte-Carlo relative error (1.6% and 3.3% at
      // T = 1024). The σ⁴ curvature term is only 0.02-0.1% here: at this σ the comparison
      // tests a, c and the cross term; the least-squares test covers the σ⁴ term.
      assert.ok(r.terms.gradient / r.closedForm.value > 0.05, r.verdict.text);
      assert.ok(r.terms.curvature > 0, "Tr² A + 2 Tr A² is positive");
      assert.equal(r.probes.unresolved, 0);
    }
    model.dispose();
  },
);

gpuTest(
  "ReLU MLP: the verdict reports disagreement at σ = 0.3, where terms beyond the pointwise " +
    "second-order model (higher orders, activation kinks) dominate",
  async (gpu) => {
    const dataset = synthetic({ samples: 64, seed: 1 });
    const model = new Sequential(gpu, mlp({ inputShape: [1, 8, 8], hidden: 16, layers: 1 }));
    model.initialize(3);
    const r = await theoryCheck(model, { dataset, loss: "cross-entropy" }, {
      k: 16,
      sigma: 0.3,
      probes: 32,
      points: 1024,
      seed: 1,
    });
    // Measured: closed form 0.0134 ± 0.0007 vs Monte Carlo 0.0192 ± 0.0008 (z = -5.7): the
    // Monte-Carlo Δ is 44% larger than the second-order model, whose σ⁴ term is 71% of it.
    assert.equal(r.verdict.agree, false, r.verdict.text);
    assert.ok(r.verdict.z < -3 && r.verdict.text.startsWith("differ"), r.verdict.text);
    assert.equal(r.probes.unresolved, 0);
    model.dispose();
  },
);

gpuTest("the theory check rejects batch norm models and bad arguments", async (gpu) => {
  const dataset = synthetic({ samples: 8, shape: [1, 4, 4] });
  const data: EvalData = { dataset, loss: "cross-entropy" };
  const bn = new Sequential(
    gpu,
    mlp({ inputShape: [1, 4, 4], hidden: 4, layers: 1, batchNorm: true }),
  );
  bn.initialize(1);
  await assert.rejects(() => theoryCheck(bn, data, { k: 2, sigma: 0.1 }), /without batch norm/);
  const ok = new Sequential(gpu, mlp({ inputShape: [1, 4, 4], hidden: 4, layers: 1 }));
  ok.initialize(1);
  await assert.rejects(
    () => theoryCheck(ok, data, { k: 8, sigma: 0.1 }),
    /k must be an integer in \[1, 7\]/,
  );
  await assert.rejects(() => theoryCheck(ok, data, { k: 2, sigma: 0 }), /sigma must be positive/);
  await assert.rejects(
    () => theoryCheck(ok, data, { k: 2, sigma: 0.1, probes: 1 }),
    /at least 2 probes/,
  );
  bn.dispose();
  ok.dispose();
});
