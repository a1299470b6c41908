import assert from "node:assert/strict";
import { synthetic } from "../src/data/synthetic.ts";
import { type EvalData, lossMatrix, type Points } from "../src/landscape/loss_matrix.ts";
import { lossMatrixMaterialized } from "../src/landscape/materialize.ts";
import { cnn, mlp, type ModelConfig } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { Tensor } from "../src/tensor.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { assertBitwiseEqual, assertClose, gpuTest, randomArray } from "./helpers.ts";

const MODELS: [string, ModelConfig][] = [
  [
    "dense + batch norm",
    mlp({ inputShape: [1, 8, 8], hidden: 12, layers: 2, batchNorm: true, dropout: 0.3 }),
  ],
  [
    "conv + batch norm",
    cnn({ inputShape: [1, 8, 8], channels: 4, convLayers: 2, headChannels: 3, batchNorm: true }),
  ],
];

/** A trained-looking model: initialised, running statistics moved off 0 and 1. */
async function makeModel(gpu: Gpu, config: ModelConfig): Promise<Sequential> {
  const model = new Sequential(gpu, config);
  model.initialize(5);
  const stats = model.params.entries.filter((e) => e.spec.kind === "running");
  stats.forEach((e, i) =>
    gpu.write(e.binding.value, randomArray(e.binding.value.size, 40 + i, 0.5, 1.5))
  );
  await gpu.flush();
  return model;
}

function pointSets(gpu: Gpu, n: number): [string, Points, Tensor?][] {
  const dirs = (width: number, seed: number, scaleBy: number) => {
    const d = randomArray(n * width, seed).map((v) => v * scaleBy);
    return Tensor.from(gpu, d, [n, width]);
  };
  const subspace = dirs(8, 1, 0.05); // dim 8: two vec4 per parameter
  const grid = dirs(4, 2, 0.05);
  const gridCoefficients = new Float32Array(9 * 4);
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      [gridCoefficients[(a * 3 + b) * 4], gridCoefficients[(a * 3 + b) * 4 + 1]] = [a - 1, b - 1];
    }
  }
  return [
    ["full", { mode: "full", count: 5, seed: 12, sigma: 0.05 }],
    ["full, antithetic pairs", {
      mode: "full",
      count: 5,
      seed: 12,
      sigma: 0.05,
      first: 3,
      antithetic: true,
    }],
    ["subspace (dim 8)", {
      mode: "subspace",
      directions: subspace,
      coefficients: randomArray(4 * 8, 3),
      count: 4,
    }, subspace],
    ["grid (3 x 3)", {
      mode: "subspace",
      directions: grid,
      coefficients: gridCoefficients,
      count: 9,
    }, grid],
  ];
}

/** Losses of the BN MLP at 9 points of a 2D subspace, whole and in chunks of 2 points. */
async function chunkedSubspace(gpu: Gpu): Promise<[Float32Array, Float32Array, Float32Array]> {
  const model = await makeModel(gpu, MODELS[0][1]);
  const data: EvalData = { dataset: synthetic({ samples: 19, seed: 6 }), loss: "cross-entropy" };
  const n = model.params.values.size;
  const directions = Tensor.from(gpu, randomArray(n * 4, 8).map((v) => v * 0.05), [n, 4]);
  const coefficients = randomArray(9 * 4, 9).map((v, i) => (i % 4 < 2 ? v : 0));
  const points: Points = { mode: "subspace", directions, coefficients, count: 9, dim: 2 };
  const whole = await lossMatrix(model, data, points);
  const split = await lossMatrix(model, data, points, {
    maxPointsPerChunk: 2,
    maxSamplesPerChunk: 7,
  });
  const one = await lossMatrix(model, data, {
    ...points,
    count: 1,
    coefficients: coefficients.subarray(4 * 4, 5 * 4),
  });
  const [wv, sv, ov] = [await whole.read(), await split.read(), await one.read()];
  for (const t of [whole, split, one, directions]) t.dispose();
  model.dispose();
  return [wv, sv, ov];
}

gpuTest(
  "subspace points on a dense first layer: any chunking of points gives the same bytes",
  async (gpu) => {
    // The first layer forms every point from x w*^T and x d_j^T computed once per chunk
    // (dense.ts); chunks of 2 points hold fewer points than dim + 1 = 3 products, and the
    // choice of path must not depend on that.
    const [whole, split, one] = await chunkedSubspace(gpu);
    assertBitwiseEqual(split, whole, "chunked");
    assertBitwiseEqual(one, whole.subarray(4 * 19, 5 * 19), "point 4 alone");
  },
);

gpuTest(
  "subspace losses do not depend on what the device's pipelines ran before",
  async () => {
    // lavapipe compiles a pipeline anew for the uniform values it first sees when that lets it
    // unroll loops, and otherwise keeps one generic compilation: a sum written so that
    // unrolling regroups it would round differently after a run with wider directions.
    using fresh = await Gpu.create();
    const expected = await chunkedSubspace(fresh);
    using used = await Gpu.create();
    const model = await makeModel(used, MODELS[0][1]);
    const data: EvalData = { dataset: synthetic({ samples: 37, seed: 2 }), loss: "cross-entropy" };
    const [, points, owned] = pointSets(used, model.params.values.size)[2];
    (await lossMatrix(model, data, points, { maxPointsPerChunk: 2, maxSamplesPerChunk: 16 }))
      .dispose();
    owned?.dispose();
    model.dispose();
    const after = await chunkedSubspace(used);
    after.forEach((v, i) => assertBitwiseEqual(v, expected[i], `result ${i} after dim 8`));
  },
);

/** Losses of point set `index` (pointSets) of `config`, chunked, on `gpu`. */
async function pointSetLosses(gpu: Gpu, config: ModelConfig, index: number): Promise<Float32Array> {
  const model = await makeModel(gpu, config);
  const data: EvalData = { dataset: synthetic({ samples: 37, seed: 2 }), loss: "cross-entropy" };
  const sets = pointSets(gpu, model.params.values.size);
  const losses = await lossMatrix(model, data, sets[index][1], {
    maxPointsPerChunk: 2,
    maxSamplesPerChunk: 16,
  });
  const values = await losses.read();
  losses.dispose();
  for (const [, , owned] of sets) owned?.dispose();
  model.dispose();
  return values;
}

for (const [name, config] of MODELS) {
  gpuTest(`${name}: every point set gives the same bytes after the others ran`, async () => {
    using used = await Gpu.create();
    const modes = pointSets(used, 1).map(([mode, , owned]) => (owned?.dispose(), mode));
    const after: Float32Array[] = [];
    for (let i = modes.length - 1; i >= 0; i--) after[i] = await pointSetLosses(used, config, i);
    for (let i = 0; i < modes.length; i++) {
      using fresh = await Gpu.create();
      assertBitwiseEqual(after[i], await pointSetLosses(fresh, config, i), `${name}, ${modes[i]}`);
    }
  });
}

for (const [name, config] of MODELS) {
  gpuTest(
    `${name}: the fused perturbed evaluation equals materialised weights (full, subspace, grid)`,
    async (gpu) => {
      const model = await makeModel(gpu, config);
      const data: EvalData = {
        dataset: synthetic({ samples: 37, seed: 2 }),
        loss: "cross-entropy",
      };
      for (const [mode, points, owned] of pointSets(gpu, model.params.values.size)) {
        const fused = await lossMatrix(model, data, points, {
          maxPointsPerChunk: 2,
          maxSamplesPerChunk: 16,
        });
        const slow = await lossMatrixMaterialized(model, data, points);
        // The fused kernels may contract w* + sigma * eps into one fused multiply-add where the
        // slow path rounds the product first, and subspace sums run in another order: weights
        // differ by an ulp or so, which moves a cross-entropy of order 1 by about 1e-6.
        assertClose(
          await fused.read(),
          await slow.read(),
          { atol: 2e-5, rtol: 2e-5 },
          `${name}, ${mode}`,
        );
        fused.dispose();
        slow.dispose();
        owned?.dispose();
      }
      model.dispose();
    },
  );
}

gpuTest(
  "antithetic points 2p and 2p + 1 are w* ± sigma * eps_p: the plus points are plain point p",
  async (gpu) => {
    const model = await makeModel(gpu, MODELS[0][1]);
    const data: EvalData = { dataset: synthetic({ samples: 23, seed: 4 }), loss: "cross-entropy" };
    const plain = await lossMatrix(model, data, { mode: "full", count: 4, seed: 7, sigma: 0.2 });
    const pairs = await lossMatrix(
      model,
      data,
      { mode: "full", count: 8, seed: 7, sigma: 0.2, antithetic: true },
      { maxPointsPerChunk: 3 },
    );
    const minus = await lossMatrixMaterialized(model, data, {
      mode: "full",
      count: 4,
      first: 1,
      seed: 7,
      sigma: 0.2,
      antithetic: true,
    });
    const [p, a, m] = [await plain.read(), await pairs.read(), await minus.read()];
    for (let pair = 0; pair < 4; pair++) {
      const row = (x: Float32Array, r: number) => x.subarray(r * 23, (r + 1) * 23);
      // The first layer forms a pair's two points as x w*^T ± x (sigma eps_p)^T (dense.ts),
      // plain points as x (w* + sigma eps_t)^T: the same point up to rounding.
      assertClose(
        row(a, 2 * pair),
        row(p, pair),
        { atol: 2e-5, rtol: 2e-5 },
        `pair ${pair}, + point`,
      );
      if (pair < 2) {
        assertClose(row(a, 2 * pair + 1), row(m, 2 * pair), { atol: 2e-5, rtol: 2e-5 }, "- point");
      }
      let differs = 0;
      for (let i = 0; i < 23; i++) differs += row(a, 2 * pair + 1)[i] !== row(p, pair)[i] ? 1 : 0;
      assert.ok(differs > 20, `pair ${pair}: the - point is another point`);
    }
    for (const t of [plain, pairs, minus]) t.dispose();
    model.dispose();
  },
);

gpuTest(
  "the loss matrix does not depend on how points and samples are chunked, and repeats exactly",
  async (gpu) => {
    const model = await makeModel(gpu, MODELS[1][1]);
    const data: EvalData = { dataset: synthetic({ samples: 50, seed: 3 }), loss: "cross-entropy" };
    const points: Points = { mode: "full", count: 7, seed: 99, sigma: 0.1 };
    const a = await lossMatrix(model, data, points);
    const b = await lossMatrix(model, data, points, {
      maxPointsPerChunk: 3,
      maxSamplesPerChunk: 11,
    });
    const c = await lossMatrix(model, data, points);
    const [av, bv, cv] = [await a.read(), await b.read(), await c.read()];
    assertBitwiseEqual(bv, av, "chunked");
    assertBitwiseEqual(cv, av, "repeated");
    for (const t of [a, b, c]) t.dispose();
    model.dispose();
  },
);

gpuTest(
  "antithetic pairs: chunks that split a pair give the same bytes as whole pairs",
  async (gpu) => {
    // A dense first layer takes one product per pair; chunks of 3 points from point 1 start
    // and end inside pairs, which must not change any point's losses.
    const model = await makeModel(gpu, MODELS[0][1]);
    const data: EvalData = { dataset: synthetic({ samples: 19, seed: 6 }), loss: "cross-entropy" };
    const points: Points = {
      mode: "full",
      count: 9,
      seed: 5,
      sigma: 0.1,
      first: 1,
      antithetic: true,
    };
    const whole = await lossMatrix(model, data, points);
    const split = await lossMatrix(model, data, points, {
      maxPointsPerChunk: 3,
      maxSamplesPerChunk: 7,
    });
    const one = await lossMatrix(model, data, { ...points, count: 1, first: 4 });
    const [wv, sv, ov] = [await whole.read(), await split.read(), await one.read()];
    assertBitwiseEqual(sv, wv, "chunked");
    assertBitwiseEqual(ov, wv.subarray(3 * 19, 4 * 19), "point 4 alone");
    for (const t of [whole, split, one]) t.dispose();
    model.dispose();
  },
);
