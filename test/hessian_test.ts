import assert from "node:assert/strict";
import { synthetic } from "../src/data/synthetic.ts";
import type { Gpu } from "../src/gpu/gpu.ts";
import {
  assertCurvatureModel,
  Curvature,
  hutchinson,
  prefixHessianTraces,
  prefixSets,
  type SampleSet,
  trainableMask,
} from "../src/landscape/hessian.ts";
import type { EvalData } from "../src/landscape/loss_matrix.ts";
import { cnn, mlp } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { Tensor } from "../src/tensor.ts";
import { assertBitwiseEqual, assertClose, EPS32, gpuTest, randomArray } from "./helpers.ts";
import { leastSquares } from "./least_squares.ts";
import {
  lsqA,
  lsqHessian,
  matVec,
  mlpGradient,
  mlpHvp,
  mlpLayout,
  traces,
} from "./reference/curvature.ts";

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));

/**
 * Per-coordinate rounding bound of the central difference for least squares (exactly
 * quadratic, so no truncation error). Each gradient g_j = (1/B) Σ_i (w·x̃_i - y_i) x̃_ij is a
 * GEMM of depth d (prediction), a scaled subtraction and a GEMM of depth B (weight gradient);
 * the perturbed weights w* ± εv are rounded once for εv and once for the sum. By the standard
 * bound |fl(Σ) - Σ| ≤ depth·u·Σ|terms| every gradient coordinate is off by at most
 * γ (1/B) Σ_i |x̃_ij| R_i with R_i = Σ_l |x̃_il| (|w_l| + ε|v_l|) + |y_i| and
 * γ = (d + B + 8) u (the 8 covers the subtraction, the 1/B scaling and the weight rounding).
 * The difference of two gradients divided by 2ε is then off by at most γ S_j / ε, plus 4u
 * relative for the final subtraction and scaling.
 */
function lsqBound(
  x: Float64Array[],
  y: ArrayLike<number>,
  w: ArrayLike<number>,
  v: ArrayLike<number>,
  idx: number[],
  epsilon: number,
  hv: ArrayLike<number>,
): Float64Array {
  const d = w.length;
  const gamma = (d + idx.length + 8) * EPS32;
  const R = idx.map((i) =>
    x[i].reduce((s, xv, l) => s + Math.abs(xv) * (Math.abs(w[l]) + epsilon * Math.abs(v[l])), 0) +
    Math.abs(y[i])
  );
  return Float64Array.from({ length: d }, (_, j) => {
    let s = 0;
    idx.forEach((i, m) => s += Math.abs(x[i][j]) * R[m] / idx.length);
    return gamma * s / epsilon + 4 * EPS32 * Math.abs(hv[j]);
  });
}

gpuTest(
  "least squares: the finite-difference HVP equals the exact H v within the rounding bound, " +
    "and w* comes back bit for bit",
  async (gpu) => {
    const { model, data, x, y, w, layout } = await leastSquares(gpu);
    const before = await model.params.values.read();
    const curvature = await Curvature.create(model);
    assert.equal(curvature.count, 6);
    const vAug = Float64Array.from(randomArray(6, 9, -1, 1));
    const vFlat = new Float32Array(layout.length);
    layout.offsets.forEach((o, j) => vFlat[o] = vAug[j]);
    const v = Tensor.from(gpu, vFlat);
    const vNorm = await curvature.norm(v);
    assert.ok(Math.abs(vNorm - norm(vAug)) <= 1e-6 * norm(vAug), `|v| ${vNorm} vs ${norm(vAug)}`);
    const epsilon = curvature.step(vNorm);
    for (const idx of [Array.from({ length: 20 }, (_, i) => i), [20]]) {
      const set = curvature.samples(data, idx);
      const check = Tensor.empty(gpu, [2]);
      const out = Tensor.empty(gpu, [curvature.length]);
      curvature.recordHvp(set, v, vNorm, out, { check });
      const [hv, ck] = [await out.read(), await check.read()];
      const exact = matVec(lsqHessian(x, idx), vAug);
      const bound = lsqBound(x, y, w, vAug, idx, epsilon, exact);
      layout.offsets.forEach((o, j) => {
        assert.ok(
          Math.abs(hv[o] - exact[j]) <= bound[j],
          `set of ${idx.length}: (Hv)[${j}] = ${hv[o]}, exact ${exact[j]}, bound ${bound[j]}`,
        );
      });
      // Padding entries have no gradient: their product is exactly 0.
      for (let i = 0; i < layout.length; i++) {
        if (!layout.offsets.includes(i)) assert.equal(hv[i], 0);
      }
      // The loss is exactly quadratic, so forward and backward differences agree up to
      // rounding; the same bound relative to |Hv| (about 1e-4 here) caps their mismatch.
      const ratio = Math.sqrt(ck[0] / ck[1]);
      const relBound = norm(bound) / norm(exact);
      assert.ok(ratio <= 2 * relBound, `consistency ratio ${ratio} above ${2 * relBound}`);
      for (const t of [check, out]) t.dispose();
      set.dispose();
    }
    assertBitwiseEqual(await model.params.values.read(), before, "w* after the products");
    curvature.dispose();
    v.dispose();
    model.dispose();
  },
);

gpuTest(
  "least squares: Hutchinson per-probe values equal zᵀA z and |A z|² of the exact A_k for the " +
    "same probes, and the estimates lie within 3 standard errors of Tr A_k and Tr A_k²",
  async (gpu) => {
    const { model, data, x, y, w, layout } = await leastSquares(gpu);
    const curvature = await Curvature.create(model);
    const probes = 64, seed = 5;
    const zs = await curvature.rademacher(probes, seed).read();
    // Rademacher: ±1 on the six trainable entries, 0 in the padding.
    const mask = trainableMask(model);
    for (let i = 0; i < zs.length; i++) {
      const m = mask[i % layout.length];
      assert.ok(m === 0 ? zs[i] === 0 : Math.abs(zs[i]) === 1, `probe entry ${i} = ${zs[i]}`);
    }
    for (const k of [4, 20]) {
      const sets = prefixSets(curvature, data, k);
      const r = await prefixHessianTraces(curvature, sets, { probes, seed });
      const A = lsqA(x, k);
      const exact = traces(A);
      const epsilon = curvature.step(Math.sqrt(curvature.count));
      assert.equal(r.redone, 0, "a quadratic loss has no kinks to redo");
      for (let p = 0; p < probes; p++) {
        const z = layout.offsets.map((o) => zs[p * layout.length + o]);
        const az = matVec(A, z);
        // A z = (H_next z - H_prefix z) / (k + 1): the two central-difference bounds add,
        // divided by k + 1, plus 4u |A z| for combining them.
        const bn = lsqBound(x, y, w, z, [k], epsilon, matVec(lsqHessian(x, [k]), z));
        const bp = lsqBound(
          x,
          y,
          w,
          z,
          Array.from({ length: k }, (_, i) => i),
          epsilon,
          matVec(lsqHessian(x, Array.from({ length: k }, (_, i) => i)), z),
        );
        const bAz = bn.map((b, j) => (b + bp[j]) / (k + 1) + 4 * EPS32 * Math.abs(az[j]));
        // zᵀ(Az) and |Az|² then move by at most Σ|z_j| b_j and Σ(2|Az_j| + b_j) b_j, plus the
        // reductions' own rounding (depth 2 over 6 terms here: 8u of the sum of magnitudes).
        const zAz = dot(z, az), az2 = dot(az, az);
        const tolQ = bAz.reduce((s, b, j) => s + Math.abs(z[j]) * b, 0) +
          8 * EPS32 * az.reduce((s, v, j) => s + Math.abs(v * z[j]), 0);
        const tolS = bAz.reduce((s, b, j) => s + (2 * Math.abs(az[j]) + b) * b, 0) +
          8 * EPS32 * az2;
        assert.ok(
          Math.abs(r.trace.values[p] - zAz) <= tolQ,
          `k ${k}, probe ${p}: zᵀAz ${r.trace.values[p]} vs exact ${zAz} (tolerance ${tolQ})`,
        );
        assert.ok(
          Math.abs(r.traceOfSquare.values[p] - az2) <= tolS,
          `k ${k}, probe ${p}: |Az|² ${
            r.traceOfSquare.values[p]
          } vs exact ${az2} (tolerance ${tolS})`,
        );
      }
      // Statistical: the estimators are unbiased, and for Rademacher probes the variance of
      // zᵀMz is known exactly, 2 (|M|_F² - Σ M_ii²), for M = A and M = A². The means must fall
      // within 3 exact standard errors (the sample standard errors of these skewed per-probe
      // values, chi-square-like for a nearly rank-one A, can be much smaller than the exact
      // one: here 0.0016 vs 0.0022 for Tr A² at k = 20, where the mean is 2.4 exact standard
      // errors off). The reported sample standard errors must be within a factor 3 of the
      // exact ones (a missing 1/sqrt(probes) would be a factor 8).
      const A2 = A.map((row, i) => row.map((_, j) => A[i].reduce((s, v, l) => s + v * A[l][j], 0)));
      const exactSe = (M: Float64Array[]) => {
        let off = 0;
        M.forEach((row, i) => row.forEach((v, j) => i !== j && (off += v * v)));
        return Math.sqrt(2 * off / probes);
      };
      for (
        const [name, est, want, se] of [
          ["Tr A", r.trace, exact.trace, exactSe(A)],
          ["Tr A²", r.traceOfSquare, exact.traceOfSquare, exactSe(A2)],
        ] as const
      ) {
        assert.ok(
          Math.abs(est.mean - want) <= 3 * se,
          `k ${k}: Hutchinson ${name} ${est.mean} ± ${est.se}, exact ${want} (exact se ${se})`,
        );
        assert.ok(
          est.se > se / 3 && est.se < 3 * se,
          `k ${k}: ${name} se ${est.se} vs exact ${se}`,
        );
      }
      sets.prefix.dispose();
      sets.next.dispose();
    }
    curvature.dispose();
    model.dispose();
  },
);

/** The one-hidden-layer ReLU MLP on 8x8 synthetic images, initialised (not trained). */
async function reluMlp(gpu: Gpu) {
  const dataset = synthetic({ samples: 128, seed: 1 });
  const model = new Sequential(gpu, mlp({ inputShape: [1, 8, 8], hidden: 16, layers: 1 }));
  model.initialize(3);
  await gpu.flush();
  const w = Float64Array.from(await model.params.values.read());
  const data: EvalData = { dataset, loss: "cross-entropy" };
  return { model, data, dataset, w, layout: mlpLayout(model) };
}

/** Hv for a set with its consistency ratio |F - B| / |F + B|, read back. */
async function hvpWithRatio(
  curvature: Curvature,
  set: SampleSet,
  v: Tensor,
  stepScale = 1,
): Promise<{ hv: Float32Array; ratio: number; stepScale: number }> {
  const gpu = curvature.model.gpu;
  const out = Tensor.empty(gpu, [curvature.length]), check = Tensor.empty(gpu, [2]);
  curvature.recordHvp(set, v, Math.sqrt(curvature.count), out, { check, stepScale });
  const [hv, ck] = [await out.read(), await check.read()];
  out.dispose();
  check.dispose();
  return { hv, ratio: Math.sqrt(ck[0] / ck[1]), stepScale };
}

/** Like `hvpWithRatio`, dividing the step by 8 (at most twice) while the ratio exceeds 1e-2. */
async function consistentHvp(curvature: Curvature, set: SampleSet, v: Tensor) {
  let r = await hvpWithRatio(curvature, set, v);
  for (let i = 0; i < 2 && r.ratio > 1e-2; i++) {
    r = await hvpWithRatio(curvature, set, v, r.stepScale / 8);
  }
  return r;
}

const relError = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  let e = 0;
  for (let i = 0; i < want.length; i++) e += (got[i] - want[i]) ** 2;
  return Math.sqrt(e) / norm(want);
};

// Tolerance of GPU products against the float64 reference, relative to |Hv|: 1e-3 / stepScale.
// Float32 rounding of the two gradients, divided by 2ε, grows as 1/ε; measured on this model
// 3e-5 at the default step, 3e-4 at 1/8 of it and 2e-3 at 1/64 (30-40x under the tolerance),
// while a wrong scale or a crossed kink gives errors of order 1.
const mlpTolerance = (stepScale: number) => 1e-3 / stepScale;

gpuTest(
  "ReLU MLP: HVPs match a float64 reference and are symmetric (uᵀHv = vᵀHu); a step that " +
    "crosses a kink is flagged by the consistency ratio and a smaller step recovers",
  async (gpu) => {
    const { model, data, dataset, w, layout } = await reluMlp(gpu);
    const curvature = await Curvature.create(model);
    const probes = curvature.rademacher(2, 11);
    const n = curvature.length;
    const [u, v] = [probes.view([n], 0), probes.view([n], n)];
    const host = await probes.read();
    const [uh, vh] = [host.subarray(0, n), host.subarray(n)];
    // Probe distribution: ±1 with probability 1/2 each, independent entries. Over 2 x 1210
    // trainable entries the fraction of +1 must be within 3 standard deviations
    // (3 sqrt(1/4 / 2420) = 0.030) of 1/2, and so must the mean of products of neighbours
    // (standard deviation 1 / sqrt(pairs)); the seeds are fixed, so this is deterministic.
    const mask = trainableMask(model);
    const entries = Array.from(host).filter((_, i) => mask[i % n] === 1);
    assert.equal(entries.length, 2 * curvature.count);
    assert.ok(entries.every((x) => x === 1 || x === -1), "probe entries are ±1");
    const plus = entries.filter((x) => x === 1).length / entries.length;
    assert.ok(Math.abs(plus - 0.5) <= 3 * Math.sqrt(0.25 / entries.length), `P(+1) = ${plus}`);
    const pairs = entries.length - 1;
    const corr = entries.slice(1).reduce((s, x, i) => s + x * entries[i], 0) / pairs;
    assert.ok(Math.abs(corr) <= 3 / Math.sqrt(pairs), `neighbour correlation ${corr}`);
    const small = Array.from({ length: 20 }, (_, i) => i);
    const set = curvature.samples(data, small);
    // Gradients of a set split into batches (7 + 7 + 6) equal the one-batch gradient and the
    // float64 one: float32 forward and backward through two dense layers sum at most 64 + 20
    // terms per value, about 84 u = 5e-6 relative to the terms, so 1e-5 of the largest
    // coordinate; per-sample losses likewise.
    const split = curvature.samples(data, small, 7);
    assert.equal(split.batches.length, 3);
    const g1 = Tensor.empty(gpu, [n]), g3 = Tensor.empty(gpu, [n]);
    const l1 = Tensor.empty(gpu, [20]), l3 = Tensor.empty(gpu, [20]);
    curvature.recordGradient(set, g1, l1);
    curvature.recordGradient(split, g3, l3);
    const [g1h, g3h, l1h, l3h] = [
      await g1.read(),
      await g3.read(),
      await l1.read(),
      await l3.read(),
    ];
    const gRef = mlpGradient(layout, w, dataset.images, dataset.labels, small);
    const gTol = 1e-5 * Math.max(...gRef.map(Math.abs));
    assertClose(g1h, gRef, { atol: gTol }, "one-batch gradient");
    assertClose(g3h, gRef, { atol: gTol }, "three-batch gradient");
    assertClose(l3h, l1h, { rtol: 1e-5 }, "per-sample losses over three batches");
    for (const t of [g1, g3, l1, l3, split]) t.dispose();
    const hu = await hvpWithRatio(curvature, set, u), hv = await hvpWithRatio(curvature, set, v);
    const refU = mlpHvp(layout, w, dataset.images, dataset.labels, small, uh);
    const refV = mlpHvp(layout, w, dataset.images, dataset.labels, small, vh);
    for (const [name, got, ref] of [["Hu", hu, refU], ["Hv", hv, refV]] as const) {
      const e = relError(got.hv, ref);
      assert.ok(e <= mlpTolerance(1), `${name}: relative error ${e} vs float64`);
      // Without a kink, forward and backward differences agree to about the rounding error.
      assert.ok(got.ratio <= 1e-2, `${name}: consistency ratio ${got.ratio}`);
    }
    // Symmetry: with e_x = (Hx)_gpu - (Hx)_float64 and an exactly symmetric reference,
    // |uᵀHv - vᵀHu| <= |u||e_v| + |v||e_u| (Cauchy-Schwarz; the float64 products are symmetric
    // to ~1e-9 relative, checked below). The products' errors are measured, not assumed.
    const uHv = dot(uh, hv.hv), vHu = dot(vh, hu.hv);
    const diff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Float64Array.from(b, (x, i) => a[i] - x);
    const tol = norm(uh) * norm(diff(hv.hv, refV)) + norm(vh) * norm(diff(hu.hv, refU));
    assert.ok(Math.abs(uHv - vHu) <= tol, `uᵀHv ${uHv} vs vᵀHu ${vHu} (tolerance ${tol})`);
    const refSym = Math.abs(dot(uh, refV) - dot(vh, refU));
    assert.ok(refSym <= 1e-9 * Math.abs(uHv), `float64 reference asymmetric by ${refSym}`);

    // 100 samples x 16 units: the default step moves some pre-activation across 0.
    const many = Array.from({ length: 100 }, (_, i) => i);
    const big = curvature.samples(data, many);
    const refMany = mlpHvp(layout, w, dataset.images, dataset.labels, many, vh);
    const coarse = await hvpWithRatio(curvature, big, v);
    assert.ok(coarse.ratio > 1e-2, `expected a kink at the default step, ratio ${coarse.ratio}`);
    assert.ok(relError(coarse.hv, refMany) > 0.1, "a crossed kink spoils the product");
    const fine = await hvpWithRatio(curvature, big, v, 1 / 8);
    assert.ok(fine.ratio <= 1e-2, `ratio at 1/8 of the step: ${fine.ratio}`);
    const e = relError(fine.hv, refMany);
    assert.ok(e <= mlpTolerance(1 / 8), `relative error at 1/8 of the step: ${e}`);
    for (const t of [set, big, curvature, model]) t.dispose();
    probes.dispose();
  },
);

gpuTest(
  "ReLU MLP: Hutchinson redoes probes that crossed kinks, and every probe's zᵀA_k z then " +
    "matches float64; without retries the crossings are reported as unresolved",
  async (gpu) => {
    const { model, data, dataset, w, layout } = await reluMlp(gpu);
    const curvature = await Curvature.create(model);
    const k = 60, probes = 12, seed = 4;
    const sets = prefixSets(curvature, data, k);
    const r = await prefixHessianTraces(curvature, sets, { probes, seed });
    const zs = await curvature.rademacher(probes, seed).read();
    const n = curvature.length;
    const prefix = Array.from({ length: k }, (_, i) => i);
    assert.ok(r.redone > 0, "60 samples x 16 units at the default step should cross kinks");
    assert.equal(r.unresolved, 0, `unresolved probes: ${r.unresolved}`);
    for (let p = 0; p < probes; p++) {
      const z = zs.subarray(p * n, (p + 1) * n);
      const hNext = mlpHvp(layout, w, dataset.images, dataset.labels, [k], z);
      const hPrefix = mlpHvp(layout, w, dataset.images, dataset.labels, prefix, z);
      const az = hNext.map((x, i) => (x - hPrefix[i]) / (k + 1));
      // |zᵀ(Az)_gpu - zᵀ(Az)| <= |z| |error of Az|; the error of Az is at most the tolerance
      // times (|H_next z| + |H_prefix z|) / (k + 1).
      const tol = mlpTolerance(r.stepScales[p]) * norm(z) * (norm(hNext) + norm(hPrefix)) /
        (k + 1);
      assert.ok(
        Math.abs(r.trace.values[p] - dot(z, az)) <= tol,
        `probe ${p} (step scale ${r.stepScales[p]}): ${r.trace.values[p]} vs ${dot(z, az)}`,
      );
    }
    const noRetry = await prefixHessianTraces(curvature, sets, { probes, seed, retries: 0 });
    assert.equal(noRetry.redone, 0);
    assert.ok(noRetry.unresolved > 0, "without retries the crossed kinks stay unresolved");
    sets.prefix.dispose();
    sets.next.dispose();
    curvature.dispose();
    model.dispose();
  },
);

gpuTest(
  "small CNN without batch norm: HVPs are symmetric within their own consistency error",
  async (gpu) => {
    const dataset = synthetic({ samples: 16, seed: 2 });
    const model = new Sequential(
      gpu,
      cnn({ inputShape: [1, 8, 8], channels: 4, convLayers: 1, headChannels: 2 }),
    );
    model.initialize(8);
    const curvature = await Curvature.create(model);
    const set = curvature.samples({ dataset, loss: "cross-entropy" }, [0, 1, 2, 3, 4, 5, 6, 7]);
    const probes = curvature.rademacher(2, 3);
    const n = curvature.length;
    const host = await probes.read();
    const [uh, vh] = [host.subarray(0, n), host.subarray(n)];
    // 8 samples x 4 channels x 64 positions: the default step crosses kinks (measured ratios
    // about 0.5), so the step shrinks until forward and backward differences agree.
    const hu = await consistentHvp(curvature, set, probes.view([n], 0));
    const hv = await consistentHvp(curvature, set, probes.view([n], n));
    assert.ok(hu.ratio <= 1e-2 && hv.ratio <= 1e-2, `kink crossed: ${hu.ratio}, ${hv.ratio}`);
    // No float64 reference here: the consistency ratio, measured on the MLP at 1.4 to 13
    // times the actual relative error, bounds each product's error; twice that, through
    // Cauchy-Schwarz, bounds the asymmetry (the dot products' own rounding is far smaller).
    const uHv = dot(uh, hv.hv), vHu = dot(vh, hu.hv);
    const tol = 2 * (hv.ratio * norm(uh) * norm(hv.hv) + hu.ratio * norm(vh) * norm(hu.hv));
    assert.ok(Math.abs(uHv - vHu) <= tol, `uᵀHv ${uHv} vs vᵀHu ${vHu} (tolerance ${tol})`);
    assert.ok(Math.abs(uHv) > 10 * tol, "the products are not trivially small");
    for (const t of [set, curvature, model]) t.dispose();
    probes.dispose();
  },
);

gpuTest(
  "batch norm and dropout models are rejected with the reason; bad arguments throw",
  async (gpu) => {
    const bn = new Sequential(
      gpu,
      mlp({ inputShape: [1, 4, 4], hidden: 4, layers: 1, batchNorm: true }),
    );
    await assert.rejects(() => Curvature.create(bn), /without batch norm \(layer 3 is batchnorm\)/);
    const dropout = new Sequential(
      gpu,
      mlp({ inputShape: [1, 4, 4], hidden: 4, layers: 1, dropout: 0.2 }),
    );
    assert.throws(
      () => assertCurvatureModel(dropout),
      /without dropout \(layer 3 is dropout p=0.2\)/,
    );
    const ok = new Sequential(gpu, mlp({ inputShape: [1, 4, 4], hidden: 4, layers: 1 }));
    ok.initialize(1);
    await assert.rejects(() => Curvature.create(ok, { relativeStep: 0 }), /relativeStep/);
    const curvature = await Curvature.create(ok);
    const data: EvalData = {
      dataset: synthetic({ samples: 5, shape: [1, 4, 4] }),
      loss: "cross-entropy",
    };
    const set = curvature.samples(data, [0, 1]);
    const short = Tensor.zeros(gpu, [curvature.length - 1]);
    assert.throws(
      () => curvature.recordHvp(set, short, 1, Tensor.empty(gpu, [curvature.length])),
      /padded parameter length/,
    );
    assert.throws(() => prefixSets(curvature, data, 5), /k must be an integer in \[1, 4\]/);
    assert.throws(() => curvature.samples(data, [5]), /outside the 5 samples/);
    await assert.rejects(
      () => hutchinson(curvature, () => undefined, { probes: 1, seed: 0 }),
      /at least 2 probes/,
    );
    for (const t of [set, short, curvature, bn, dropout, ok]) t.dispose();
  },
);
