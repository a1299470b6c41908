/** Bad --model-spec files: each is refused naming the file and the layer or field. */
import type { BadInput } from "./case.ts";
import { encodeSafetensors } from "../../src/train/safetensors.ts";
import { CHECKPOINT_FORMAT } from "../../src/train/checkpoint.ts";
import { mlp } from "../../src/nn/model_config.ts";

const SPEC = "{dir}/my model.json";

/** A spec of a one-hidden-layer MLP on `--data synthetic` (8 x 8 images), edited by `edit`. */
function spec(edit: (s: { inputShape: number[]; layers: unknown[] }) => void = () => {}) {
  const s = { ...mlp({ inputShape: [1, 8, 8], hidden: 4, layers: 1 }), classes: 10 };
  edit(s);
  return JSON.stringify(s);
}

function trainCase(name: string, text: string | undefined, error: RegExp): BadInput {
  return {
    name,
    prepare: (dir) =>
      text === undefined ? undefined : Deno.writeTextFile(SPEC.replace("{dir}", dir), text),
    args: [
      "train",
      "--data",
      "synthetic",
      "--epochs",
      "1",
      "--model-spec",
      SPEC,
      "--out",
      "{dir}/out",
    ],
    error,
    code: 1,
    gpu: true,
  };
}

export const modelSpecCases: BadInput[] = [
  trainCase("a model spec that does not exist", undefined, /my model\.json: model spec not found/),
  trainCase("a model spec that is not JSON", "{ layers: [", /my model\.json: not JSON/),
  trainCase(
    "a model spec with an unknown layer kind",
    spec((s) => s.layers[2] = { type: "gelu" }),
    /my model\.json: layer 2: unknown layer kind "gelu"/,
  ),
  trainCase(
    "a model spec whose dense layer does not fit the shape before it",
    spec((s) => s.layers[1] = { type: "dense", in: 63, out: 4 }),
    /my model\.json: layer 1 \(dense\) gets \[64\]: dense layer expects 63 inputs, got \[64\]/,
  ),
  trainCase(
    "a model spec for other inputs than the data's",
    spec((s) => {
      s.inputShape = [64];
      s.layers.shift();
    }),
    /my model\.json: the model takes \[64\] inputs, the data synthetic\/0:train gives \[1,8,8\]/,
  ),
  {
    ...trainCase("architecture options beside --model-spec", spec(), /x/),
    args: [
      "train",
      "--data",
      "synthetic",
      "--model-spec",
      SPEC,
      "--batch-norm",
      "--hidden",
      "64",
      "--out",
      "{dir}/out",
    ],
    error: /--hidden is not used with --model-spec \(the spec is the whole model\); leave it out/,
    code: 2,
  },
  {
    name: "a checkpoint whose model is not the --model-spec",
    prepare: async (dir) => {
      const config = mlp({ inputShape: [1, 8, 8], hidden: 4, layers: 1 });
      const t = (...shape: number[]) => ({
        shape,
        data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01),
      });
      await Deno.writeFile(
        `${dir}/model.safetensors`,
        encodeSafetensors(
          { "1.weight": t(4, 64), "1.bias": t(4), "3.weight": t(10, 4), "3.bias": t(10) },
          { config: JSON.stringify(config), format: CHECKPOINT_FORMAT },
        ),
      );
      await Deno.writeTextFile(
        SPEC.replace("{dir}", dir),
        spec((s) => s.layers[2] = { type: "dropout", p: 0.1 }),
      );
    },
    args: [
      "delta",
      "--checkpoint",
      "{dir}/model.safetensors",
      "--model-spec",
      SPEC,
      "--data",
      "synthetic",
      "--out",
      "{dir}/out",
    ],
    error:
      /model\.safetensors: its model differs from the spec .*my model\.json \(layer 2: \{"type":"relu"\} vs \{"p":0\.1,"type":"dropout"\}\)/,
    code: 1,
    gpu: true,
  },
];
