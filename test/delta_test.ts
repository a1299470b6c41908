import assert from "node:assert/strict";
import { synthetic } from "../src/data/synthetic.ts";
import {
  batchMeans,
  curveFromDifferences,
  deltaCurve,
  differenceRows,
  reshuffle,
} from "../src/landscape/delta.ts";
import { estimateDelta, sampleOrder } from "../src/landscape/estimate.ts";
import { lossMatrix } from "../src/landscape/loss_matrix.ts";
import { mlp } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { PhiloxStream } from "../src/rng/philox.ts";
import { Tensor } from "../src/tensor.ts";
import { assertBitwiseEqual, assertClose, gpuTest, randomArray } from "./helpers.ts";
import { leastSquares } from "./least_squares.ts";

/** Float64 Δ from a loss matrix by the definition (exact prefix means). */
function deltaReference(l: Float32Array, rows: number, n: number): Float64Array {
  const out = new Float64Array(n - 1);
  for (let t = 0; t < rows; t++) {
    let sum = l[t * n];
    for (let k = 1; k < n; k++) {
      const before = sum / k;
      sum += l[t * n + k];
      const d = sum / (k + 1) - before;
      out[k - 1] += d * d / rows;
    }
  }
  return out;
}

gpuTest(
  "Δk from the GPU equals float64 on the same loss matrix for K = 100,000 (no cancellation)",
  async (gpu) => {
    const rows = 8, n = 100_001;
    const l = randomArray(rows * n, 17, 0.2, 2);
    const losses = Tensor.from(gpu, l, [rows, n]);
    const curve = await deltaCurve(losses);
    const ref = deltaReference(l, rows, n);
    // Prefix sums in float32 carry a relative error of about depth * 2^-24 (depth ~ 70 here);
    // D = (l_{k+1} - S_k / k) / (k + 1) turns it into a relative error of the same order
    // because |l - mean| is of the order of the mean. So Δ agrees to about 1e-5.
    assertClose(curve.delta, ref, { rtol: 1e-4 }, "Δk");
    assert.equal(curve.k[0], 2);
    assert.equal(curve.k[n - 2], n);
    // The naive float32 difference of prefix means loses every digit at this k.
    let naiveWorst = 0;
    for (const k of [50_000, 99_999]) {
      let s = 0;
      for (let i = 0; i < k; i++) s = Math.fround(s + l[i]);
      const before = Math.fround(s / k), after = Math.fround(Math.fround(s + l[k]) / (k + 1));
      const d = after - before, exact = Math.sqrt(ref[k - 1] * rows); // |D| scale of row 0
      naiveWorst = Math.max(naiveWorst, Math.abs(Math.abs(d) - exact) / exact);
    }
    assert.ok(
      naiveWorst > 0.05,
      `naive float32 difference should be off by > 5%, was ${naiveWorst}`,
    );
    losses.dispose();
  },
);

gpuTest("Δk decomposes into variance plus squared mean, and repeats exactly", async (gpu) => {
  const l = randomArray(16 * 300, 3, 0, 3);
  const losses = Tensor.from(gpu, l, [16, 300]);
  const a = await deltaCurve(losses), b = await deltaCurve(losses);
  assertBitwiseEqual(b.differences, a.differences, "differences");
  const sum = a.variance.map((v, i) => v + a.meanSquared[i]);
  assertClose(sum, a.delta, { rtol: 1e-12 }, "variance + mean^2");
  assert.ok(a.se.every((v) => v > 0 && Number.isFinite(v)));
  losses.dispose();
});

gpuTest(
  "counting batches averages each batch of 64; reshuffling permutes every row differently",
  async (gpu) => {
    const rows = 3, n = 640;
    const l = randomArray(rows * n, 5, 0, 1);
    const losses = Tensor.from(gpu, l, [rows, n]);
    const means = await batchMeans(losses, 64).read();
    for (let r = 0; r < rows; r++) {
      for (let b = 0; b < 10; b++) {
        let s = 0;
        for (let i = 0; i < 64; i++) s += l[r * n + b * 64 + i];
        assert.ok(Math.abs(means[r * 10 + b] - s / 64) < 1e-6);
      }
    }
    assert.throws(() => batchMeans(Tensor.zeros(gpu, [2, 100]), 64), /multiple of 64/);
    const shuffled = await reshuffle(losses, 9).read();
    for (let r = 0; r < rows; r++) {
      const order = new PhiloxStream(9, r, 5).permutation(n);
      for (let i = 0; i < n; i++) assert.equal(shuffled[r * n + i], l[r * n + order[i]]);
    }
    const batches = await deltaCurve(losses, { counting: "batches" });
    assert.equal(batches.k.length, 9);
    losses.dispose();
  },
);

/** Exact Δ_{k+1} for per-sample losses 1/2 (w.x_i + b - y_i)^2 at w ~ N(w*, sigma^2 I). */
function quadraticClosedForm(
  x: Float64Array[],
  y: number[],
  w: Float64Array,
  k: number,
  sigma: number,
): number {
  const d = w.length;
  const r = x.map((xi, i) => xi.reduce((s, v, j) => s + v * w[j], 0) - y[i]);
  const mean = (f: (i: number) => number, m: number) =>
    Array.from({ length: m }, (_, i) => f(i)).reduce((a, b) => a + b, 0) / m;
  const loss = (i: number) => 0.5 * r[i] * r[i];
  const a = mean(loss, k + 1) - mean(loss, k);
  const c = Array.from(
    { length: d },
    (_, j) => mean((i) => r[i] * x[i][j], k + 1) - mean((i) => r[i] * x[i][j], k),
  );
  const A = Array.from(
    { length: d },
    (_, p) =>
      Array.from(
        { length: d },
        (_, q) => mean((i) => x[i][p] * x[i][q], k + 1) - mean((i) => x[i][p] * x[i][q], k),
      ),
  );
  const tr = A.reduce((s, row, p) => s + row[p], 0);
  const tr2 = A.reduce((s, row) => s + row.reduce((t, v) => t + v * v, 0), 0);
  const c2 = c.reduce((s, v) => s + v * v, 0);
  const s2 = sigma * sigma;
  return a * a + a * s2 * tr + s2 * c2 + (s2 * s2 / 4) * (tr * tr + 2 * tr2);
}

gpuTest(
  "Monte-Carlo Δk agrees with the closed form for linear least squares (within 3 SE)",
  async (gpu) => {
    const { model, data, x, y, w } = await leastSquares(gpu);
    for (const sigma of [0.05, 0.3]) {
      const losses = await lossMatrix(model, data, { mode: "full", count: 4096, seed: 21, sigma });
      const curve = await deltaCurve(losses);
      for (const k of [1, 4, 20]) {
        const exact = quadraticClosedForm(x, [...y], w, k, sigma);
        const mc = curve.delta[k - 1], se = curve.se[k - 1];
        assert.ok(
          Math.abs(mc - exact) <= 3 * se,
          `sigma ${sigma}, k ${k}: Monte Carlo ${mc} ± ${se}, closed form ${exact}`,
        );
      }
      losses.dispose();
    }
    model.dispose();
  },
);

gpuTest(
  "antithetic pairs are unbiased on the quadratic model (mean over seeds within 3 SE of the " +
    "closed form, Δ and its landscape term) and their standard error matches the spread",
  async (gpu) => {
    const { model, data, x, y, w } = await leastSquares(gpu);
    const seeds = 40;
    for (const sigma of [0.05, 0.3]) {
      const ks = [1, 4, 20];
      const est = ks.map(() => ({ delta: [] as number[], landscape: [] as number[], se2: 0 }));
      const center = await lossMatrix(model, data, { mode: "center" });
      const a = await deltaCurve(center);
      center.dispose();
      for (let seed = 0; seed < seeds; seed++) {
        const points = { mode: "full", count: 128, seed, sigma, antithetic: true } as const;
        const losses = await lossMatrix(model, data, points);
        const curve = curveFromDifferences(
          await differenceRows(losses, { estimator: "antithetic" }),
          128,
          { estimator: "antithetic", center: a.differences },
        );
        losses.dispose();
        ks.forEach((k, i) => {
          est[i].delta.push(curve.delta[k - 1]);
          est[i].landscape.push(curve.terms!.landscape[k - 1]);
          est[i].se2 += curve.se[k - 1] ** 2 / seeds;
        });
      }
      ks.forEach((k, i) => {
        const exact = quadraticClosedForm(x, [...y], w, k, sigma);
        const exactData = quadraticClosedForm(x, [...y], w, k, 0);
        for (
          const [what, values, target] of [
            ["Δ", est[i].delta, exact],
            ["landscape term", est[i].landscape, exact - exactData],
          ] as const
        ) {
          const m = values.reduce((s, v) => s + v, 0) / seeds;
          const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (seeds - 1));
          assert.ok(
            Math.abs(m - target) <= 3 * sd / Math.sqrt(seeds),
            `σ ${sigma}, k ${k}, ${what}: mean ${m} ± ${sd / Math.sqrt(seeds)}, exact ${target}`,
          );
          if (what === "Δ") {
            const ratio = Math.sqrt(est[i].se2) / sd;
            assert.ok(ratio > 0.6 && ratio < 1.6, `σ ${sigma}, k ${k}: SE / spread ${ratio}`);
          }
        }
      });
    }
    model.dispose();
  },
);

gpuTest(
  "data term + landscape term reproduce Δk; the data term is a² at w*, one per row's order",
  async (gpu) => {
    const model = new Sequential(gpu, mlp({ inputShape: [1, 8, 8], hidden: 10, layers: 2 }));
    model.initialize(9);
    const data = synthetic({ samples: 90, seed: 8 });
    const o = { sigma: 0.05, points: 12, samples: 40, seed: 2 };
    for (const extra of [{}, { estimator: "antithetic" as const }, { reshuffleSeed: 5 }]) {
      const curve = await estimateDelta(model, data, { ...o, ...extra });
      const t = curve.terms!;
      for (let j = 0; j < curve.k.length; j++) {
        assert.ok(
          Math.abs(t.data[j] + t.landscape[j] - curve.delta[j]) <= 1e-15 * curve.delta[j],
          `k ${curve.k[j]}: ${t.data[j]} + ${t.landscape[j]} vs ${curve.delta[j]}`,
        );
      }
      // a_k from the losses at w* in float64, in each row's order.
      const losses = await lossMatrix(model, {
        dataset: sampleOrder(data, o.samples, o.seed),
        loss: "cross-entropy",
      }, { mode: "center" });
      const l = await losses.read();
      losses.dispose();
      const rows = "reshuffleSeed" in extra ? o.points : 1;
      assert.equal(t.center.length, rows * (o.samples - 1));
      const expected = new Float64Array(o.samples - 1);
      for (let r = 0; r < rows; r++) {
        const order = "reshuffleSeed" in extra
          ? new PhiloxStream(5, r, 5).permutation(o.samples)
          : Uint32Array.from({ length: o.samples }, (_, i) => i);
        let sum = l[order[0]];
        for (let k = 1; k < o.samples; k++) {
          const before = sum / k;
          sum += l[order[k]];
          expected[k - 1] += (sum / (k + 1) - before) ** 2 / rows;
        }
      }
      assertClose(
        t.data,
        expected,
        { rtol: 1e-4, atol: 1e-12 },
        `data term ${JSON.stringify(extra)}`,
      );
      if (rows === 1) assertClose(t.landscapeSe, curve.se, { rtol: 1e-9 }, "landscape SE");
    }
    model.dispose();
  },
);

gpuTest(
  "on the paper MLP antithetic pairs agree with plain points within SE, with smaller SE",
  async (gpu) => {
    const model = new Sequential(
      gpu,
      mlp({ inputShape: [1, 28, 28], batchNorm: true, dropout: 0.05 }),
    );
    model.initialize(3);
    const stats = model.params.entries.filter((e) => e.spec.kind === "running");
    stats.forEach((e, i) =>
      gpu.write(e.binding.value, randomArray(e.binding.value.size, 60 + i, 0.5, 1.5))
    );
    const data = synthetic({ samples: 120, shape: [1, 28, 28], seed: 6 });
    const o = { sigma: 0.01, points: 128, samples: 101, seed: 4 };
    const plain = await estimateDelta(model, data, o);
    const pairs = await estimateDelta(model, data, { ...o, estimator: "antithetic" });
    assert.equal(pairs.estimator, "antithetic");
    for (const k of [11, 101]) {
      const j = k - 2;
      for (
        const [what, p, a, ps, as] of [
          ["Δ", plain.delta[j], pairs.delta[j], plain.se[j], pairs.se[j]],
          [
            "landscape term",
            plain.terms!.landscape[j],
            pairs.terms!.landscape[j],
            plain.terms!.landscapeSe[j],
            pairs.terms!.landscapeSe[j],
          ],
        ] as const
      ) {
        const z = (a - p) / Math.hypot(ps, as);
        assert.ok(Math.abs(z) <= 3, `k ${k}, ${what}: plain ${p} ± ${ps}, pairs ${a} ± ${as}`);
      }
      assert.ok(pairs.se[j] < plain.se[j], `k ${k}: SE ${pairs.se[j]} vs plain ${plain.se[j]}`);
      // The ratio measured from the pairs alone predicts the two runs' ratio of squared SEs.
      const measured = pairs.varianceRatio![j], actual = plain.se[j] ** 2 / pairs.se[j] ** 2;
      assert.ok(measured > 1, `k ${k}: variance ratio ${measured}`);
      assert.ok(
        measured / actual > 0.4 && measured / actual < 2.5,
        `k ${k}: ratio ${measured} from the pairs, ${actual} between the runs`,
      );
    }
    assert.deepEqual(plain.terms!.data, pairs.terms!.data);
    model.dispose();
  },
);
