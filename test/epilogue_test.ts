import assert from "node:assert/strict";
import type { Gpu } from "../src/gpu/gpu.ts";
import { fusedRuns } from "../src/nn/epilogue.ts";
import { gemmVariant } from "../src/nn/gemm.ts";
import type { ForwardContext, Layer } from "../src/nn/layer.ts";
import { cnn, type LayerSpec, mlp, type ModelConfig } from "../src/nn/model_config.ts";
import type { Perturbation } from "../src/nn/perturbation.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { Tensor } from "../src/tensor.ts";
import { assertBitwiseEqual, assertClose, gpuTest, randomArray } from "./helpers.ts";

/** The runs fusedRuns finds in a list of layer kinds, as "product..last flags". */
function runsOf(kinds: string[]): string[] {
  const layers = kinds.map((kind) => {
    const layer = { kind } as unknown as Layer;
    if (kind === "conv2d" || kind === "dense") Object.assign(layer, { forwardWith: () => {} });
    return layer;
  });
  return fusedRuns(layers).map((r) =>
    `${r.product}..${r.last}` + (r.reluFirst ? " relu" : "") + (r.norm ? " norm" : "") +
    (r.reluLast ? " relu" : "")
  );
}

Deno.test("fusedRuns: ReLU, batch norm, ReLU after a product, evaluation dropouts between", () => {
  assert.deepEqual(runsOf(["conv2d", "relu", "batchnorm", "dropout", "conv2d"]), [
    "0..2 relu norm",
  ]);
  assert.deepEqual(runsOf(["dense", "batchnorm", "relu", "dense", "relu"]), [
    "0..2 norm relu",
    "3..4 relu",
  ]);
  assert.deepEqual(runsOf(["conv2d", "dropout", "relu", "dropout", "batchnorm"]), [
    "0..4 relu norm",
  ]);
  // Nothing to fold, or something else in between: the layers run as they are.
  assert.deepEqual(runsOf(["conv2d", "flatten", "relu", "dense"]), []);
  assert.deepEqual(runsOf(["relu", "batchnorm", "maxpool", "dense"]), []);
  assert.deepEqual(runsOf(["conv2d", "maxpool", "batchnorm"]), []);
  // A second ReLU before any batch norm starts nothing new.
  assert.deepEqual(runsOf(["dense", "relu", "relu"]), ["0..1 relu"]);
});

const CONV_BN_RELU: ModelConfig = {
  name: "conv-bn-relu",
  inputShape: [3, 9, 7],
  layers: [
    { type: "conv2d", in: 3, out: 8, kernel: 3, padding: 1 },
    { type: "batchnorm" },
    { type: "relu" },
    { type: "conv2d", in: 8, out: 5, kernel: 3, padding: 2 },
    { type: "relu" },
    { type: "batchnorm" },
    { type: "flatten" },
    { type: "dense", in: 5 * 11 * 9, out: 6 },
  ] satisfies LayerSpec[],
};

/**
 * The same kind with whole vec4s of input (3 x 8 x 7), so that the first convolution is
 * computed inside the second's input transform (a lead of 3 channels, padding 2; rows of 7
 * values, so x0's rows start anywhere in a vec4).
 */
const LEAD_PAD_2: ModelConfig = {
  name: "lead-pad-2",
  inputShape: [3, 8, 7],
  layers: [
    { type: "conv2d", in: 3, out: 8, kernel: 3, padding: 2 },
    { type: "batchnorm" },
    { type: "relu" },
    { type: "conv2d", in: 8, out: 5, kernel: 3, padding: 1 },
    { type: "relu" },
    { type: "batchnorm" },
    { type: "flatten" },
    { type: "dense", in: 5 * 10 * 9, out: 6 },
  ] satisfies LayerSpec[],
};

/**
 * Models, and how many convolutions the register core's evaluation forward computes inside
 * the next one's Winograd input transform (Conv2d.forwardLed).
 */
const MODELS: [string, ModelConfig, number][] = [
  // Outputs 12 wide: Winograd's output transform stores rows of four as vec4s; 10 wide (ReLU
  // only): one value at a time. Both have a first convolution of one channel that leads.
  [
    "cnn, batch norm + dropout",
    cnn({
      inputShape: [1, 12, 12],
      channels: 8,
      convLayers: 2,
      headChannels: 4,
      batchNorm: true,
      dropout: 0.2,
    }),
    1,
  ],
  [
    "cnn, ReLU only",
    cnn({ inputShape: [1, 10, 10], channels: 4, convLayers: 2, headChannels: 3 }),
    1,
  ],
  [
    "mlp, batch norm + dropout",
    mlp({
      inputShape: [1, 6, 6],
      hidden: 12,
      layers: 3,
      batchNorm: true,
      dropout: 0.1,
    }),
    0,
  ],
  // 10 outputs: rows of y are not whole vec4s, so the first layer stores value by value.
  ["mlp, 10 wide", mlp({ inputShape: [1, 6, 6], hidden: 10, layers: 2, batchNorm: true }), 0],
  // 5 images of 3 x 9 x 7 are not whole vec4s: the first convolution stores its output.
  ["conv -> batch norm -> ReLU, odd shapes", CONV_BN_RELU, 0],
  ["conv -> batch norm -> ReLU, the first convolution leading", LEAD_PAD_2, 1],
];

/** A model with running statistics moved off 0 and 1, so the batch norm does something. */
async function trainedLooking(gpu: Gpu, config: ModelConfig): Promise<Sequential> {
  const model = new Sequential(gpu, config);
  model.initialize(3);
  model.params.entries.filter((e) => e.spec.kind === "running").forEach((e, i) =>
    gpu.write(e.binding.value, randomArray(e.binding.value.size, 60 + i, 0.2, 1.8))
  );
  await gpu.flush();
  return model;
}

/** The layers one by one, each its own kernels: the evaluation forward without epilogues. */
function layerByLayer(model: Sequential, ctx: ForwardContext, x: Tensor): Tensor {
  let h = x;
  for (const layer of model.layers) {
    const out = layer.forward(ctx, h);
    if (h !== x && out.buffer !== h.buffer) h.dispose();
    h = out;
  }
  return h;
}

for (const [name, config, leads] of MODELS) {
  gpuTest(`${name}: the evaluation forward with epilogues equals layer by layer`, async (gpu) => {
    const model = await trainedLooking(gpu, config);
    const batch = 5;
    const x = Tensor.from(
      gpu,
      randomArray(batch * config.inputShape.reduce((a, b) => a * b), 8),
      [1, batch, ...config.inputShape],
    );
    const at = (perturbation?: Perturbation): ForwardContext => ({
      gpu,
      training: false,
      seed: 0,
      step: 0,
      perturbation,
    });
    // Antithetic pairs on the model's input take one product per pair in a first dense layer
    // (P ± Q_p), and subspace points P + sum_j a_gj Q_j, which round otherwise than one product
    // per point: equal within rounding.
    const n = model.params.values.size;
    const directions = Tensor.from(gpu, randomArray(n * 4, 9).map((v) => 0.1 * v), [n, 4]);
    const coefficients = Tensor.from(
      gpu,
      randomArray(5 * 4, 10).map((v, i) => (i % 4 < 2 ? v : 0)),
      [5, 4],
    );
    const contexts: [string, ForwardContext, "bitwise" | "rounding"][] = [
      ["at w*", at(), "bitwise"],
      ["at 3 perturbed points", at({ mode: "full", points: 3, seed: 4, sigma: 0.1 }), "bitwise"],
      [
        "at 2 antithetic pairs",
        at({
          mode: "full",
          points: 4,
          seed: 4,
          sigma: 0.1,
          antithetic: true,
        }),
        "rounding",
      ],
      [
        "at 5 subspace points (dim 2)",
        at({ mode: "subspace", points: 5, directions, coefficients, dim: 2 }),
        "rounding",
      ],
    ];
    for (const [where, ctx, equality] of contexts) {
      const kernels: string[] = [];
      const dispatch = gpu.dispatch.bind(gpu);
      gpu.dispatch = (d) => {
        kernels.push(d.kernel.entryPoint);
        dispatch(d);
      };
      const fused = model.forward(ctx, x);
      gpu.dispatch = dispatch;
      // No ReLU or normalisation pass ran: each was applied in a product's store.
      assert.deepEqual(
        kernels.filter((k) => /^(relu|normalize)/.test(k)),
        [],
        `${name}, ${where}: ${kernels}`,
      );
      assert.equal(
        kernels.filter((k) => k === "inputTransformLed6").length,
        gemmVariant(gpu) === "register" ? leads : 0,
        `${name}, ${where}: ${kernels}`,
      );
      const reference = layerByLayer(model, ctx, x);
      const [got, want] = [await fused.read(), await reference.read()];
      // A lead of one channel sums its 9 products and the bias in the direct convolution's
      // order; with 3 channels the order differs (the direct one takes them four at a time).
      const bitwise = equality === "bitwise" && (leads === 0 || config.inputShape[0] === 1);
      if (bitwise) assertBitwiseEqual(got, want, `${name}, ${where}`);
      else assertClose(got, want, { atol: 2e-5, rtol: 2e-5 }, `${name}, ${where}`);
      fused.dispose();
      reference.dispose();
    }
    for (const t of [x, directions, coefficients]) t.dispose();
    model.dispose();
  });
}

gpuTest(
  "a leading convolution reads an input with one group per point: equals layer by layer",
  async (gpu) => {
    const config = MODELS[0][1];
    const model = await trainedLooking(gpu, config);
    const points = 3, batch = 4, sample = config.inputShape.reduce((a, b) => a * b);
    // Each point's images differ, so reading another point's group would show.
    const x = Tensor.from(gpu, randomArray(points * batch * sample, 11), [
      points,
      batch,
      ...config.inputShape,
    ]);
    const ctx: ForwardContext = {
      gpu,
      training: false,
      seed: 0,
      step: 0,
      perturbation: { mode: "full", points, seed: 4, sigma: 0.1 },
    };
    const kernels: string[] = [];
    const dispatch = gpu.dispatch.bind(gpu);
    gpu.dispatch = (d) => {
      kernels.push(d.kernel.entryPoint);
      dispatch(d);
    };
    const fused = model.forward(ctx, x);
    gpu.dispatch = dispatch;
    assert.equal(
      kernels.filter((k) => k === "inputTransformLed6").length,
      gemmVariant(gpu) === "register" ? 1 : 0,
    );
    const reference = layerByLayer(model, ctx, x);
    assertBitwiseEqual(await fused.read(), await reference.read(), "groups of x per point");
    for (const t of [x, fused, reference]) t.dispose();
    model.dispose();
  },
);
