import assert from "node:assert/strict";
import { cnn, mlp } from "../src/nn/model_config.ts";
import { modelDifference, parseModelSpec } from "../src/nn/model_spec.ts";
import { loadCheckpoint } from "../src/train/checkpoint.ts";
import { cli } from "./cli_run.ts";
import { gpuTest, testGpu } from "./helpers.ts";

const CNN_SPEC = {
  name: "small-cnn",
  inputShape: [1, 8, 8],
  classes: 10,
  layers: [
    { type: "Conv2d", in: 1, out: 4, kernel: 3, stride: 1, padding: 1 },
    { type: "BatchNorm2d" },
    { type: "ReLU" },
    { type: "MaxPool2d", kernel: 2 },
    { type: "Dropout", p: 0.1 },
    { type: "Flatten" },
    { type: "Linear", in: 64, out: 16 },
    { type: "BatchNorm1d", eps: 1e-3 },
    { type: "relu" },
    { type: "dense", in: 16, out: 10 },
  ],
};

const parse = (spec: unknown) => parseModelSpec(JSON.stringify(spec), "m.json");
const withLayer = (i: number, layer: unknown) => {
  const layers: unknown[] = [...CNN_SPEC.layers];
  layers[i] = layer;
  return { ...CNN_SPEC, layers };
};

Deno.test("model spec: PyTorch's layer names become the engine's, shapes walked", () => {
  const config = parse(CNN_SPEC);
  assert.equal(config.name, "small-cnn");
  assert.deepEqual(config.layers.map((l) => l.type), [
    "conv2d",
    "batchnorm",
    "relu",
    "maxpool",
    "dropout",
    "flatten",
    "dense",
    "batchnorm",
    "relu",
    "dense",
  ]);
  assert.deepEqual(config.layers[7], { type: "batchnorm", eps: 1e-3 });
});

Deno.test("model spec: the description checkpoints store reads back as the same model", () => {
  for (
    const model of [
      mlp({ inputShape: [1, 8, 8], batchNorm: true, dropout: 0.1 }),
      cnn({ inputShape: [1, 8, 8], channels: 4, convLayers: 2 }),
    ]
  ) {
    const parsed = parse({ ...model, classes: 10 });
    assert.equal(modelDifference(parsed, model), undefined);
  }
});

Deno.test("model spec: errors name the layer, its kind, the field or the shapes", () => {
  const cases: [unknown, RegExp][] = [
    [withLayer(2, { type: "gelu" }), /m\.json: layer 2: unknown layer kind "gelu"; known: dense/],
    [
      withLayer(0, { type: "conv2d", in: 1, out: 4, kernel: 0 }),
      /layer 0: field "kernel" of conv2d must be an integer >= 1, got 0/,
    ],
    [withLayer(0, { type: "conv2d", in: 1, out: 4 }), /layer 0: conv2d needs field "kernel"/],
    [
      withLayer(0, { type: "conv2d", in: 1, out: 4, kernel: 3, strid: 2 }),
      /layer 0: unknown field "strid" for conv2d; its fields are in, out, kernel, stride, padding/,
    ],
    [
      withLayer(4, { type: "dropout", p: 1 }),
      /layer 4: field "p" of dropout must be a number in \[0, 1\), got 1/,
    ],
    [
      withLayer(6, { type: "linear", in: 100, out: 16 }),
      /layer 6 \(linear\) gets \[64\]: dense layer expects 100 inputs/,
    ],
    [
      withLayer(0, { type: "conv2d", in: 3, out: 4, kernel: 3 }),
      /layer 0 \(conv2d\) gets \[1,8,8\]: conv2d expects \[3, H, W\]/,
    ],
    [
      withLayer(7, { type: "batchnorm2d" }),
      /layer 7 \(batchnorm2d\) needs a \[C, H, W\] input, gets \[16\]/,
    ],
    [
      withLayer(1, { type: "batchnorm1d" }),
      /layer 1 \(batchnorm1d\) needs a \[C\] input, gets \[4,8,8\]/,
    ],
    [withLayer(2, "relu"), /layer 2: must be an object with a "type", got "relu"/],
    [{ ...CNN_SPEC, classes: 12 }, /the last layer gives \[10\] per sample, "classes" is 12/],
    [
      { ...CNN_SPEC, inputShape: [8, 8] },
      /"inputShape" must be \[features\] or \[channels, height, width\]/,
    ],
    [
      { ...CNN_SPEC, classes: undefined },
      /"classes" must be an integer in \[1, 256\], got undefined/,
    ],
    [{ ...CNN_SPEC, layers: [] }, /"layers" must be a non-empty list/],
    [
      { ...CNN_SPEC, input_shape: [1, 8, 8] },
      /unknown field "input_shape"; a spec has name, inputShape, classes and layers/,
    ],
  ];
  for (const [spec, error] of cases) assert.throws(() => parse(spec), error);
  assert.throws(() => parseModelSpec("{", "m.json"), /m\.json: not JSON/);
});

Deno.test("model spec: a difference names the first layer that differs; defaults are equal", () => {
  const a = parse(CNN_SPEC);
  const b = parse(withLayer(0, { type: "conv2d", in: 1, out: 4, kernel: 3, padding: 1 }));
  assert.equal(modelDifference(a, b), undefined);
  const c = parse(withLayer(4, { type: "dropout", p: 0.2 }));
  assert.match(modelDifference(a, c)!, /^layer 4: \{"p":0.1,"type":"dropout"\} vs \{"p":0.2/);
});

gpuTest(
  "train --model-spec trains the spec's model; analyses load it with the same spec",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "model spec " });
    try {
      const spec = {
        inputShape: [1, 8, 8],
        classes: 10,
        layers: [
          { type: "conv2d", in: 1, out: 2, kernel: 3, padding: 1 },
          { type: "batchnorm2d" },
          { type: "relu" },
          { type: "avgpool", kernel: 2 },
          { type: "flatten" },
          { type: "linear", in: 32, out: 10 },
        ],
      };
      await Deno.writeTextFile(`${dir}/spec.json`, JSON.stringify(spec));
      const t = await cli(
        "train",
        "--data",
        "synthetic",
        "--train-limit",
        "480",
        "--epochs",
        "3",
        "--lr",
        "1e-2",
        "--model-spec",
        `${dir}/spec.json`,
        "--out",
        `${dir}/t`,
      );
      assert.equal(t.code, 0, t.out);
      const gpu = await testGpu();
      const { model } = await loadCheckpoint(gpu, `${dir}/t/model.safetensors`);
      assert.equal(modelDifference(model.config, parse(spec)), undefined);
      model.dispose();
      const l = await cli(
        "losses",
        "--checkpoint",
        `${dir}/t/model.safetensors`,
        "--model-spec",
        `${dir}/spec.json`,
        "--data",
        "synthetic",
        "--out",
        `${dir}/l`,
      );
      assert.equal(l.code, 0, l.out);
      assert.match(await Deno.readTextFile(`${dir}/l/losses.csv`), /^index,label,loss,correct\r\n/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
