/** Settings whose numbers come out NaN or infinite, and training that diverges. */
import { mlp } from "../../src/nn/model_config.ts";
import { Sequential } from "../../src/nn/sequential.ts";
import { saveCheckpoint } from "../../src/train/checkpoint.ts";
import { testGpu } from "../helpers.ts";
import type { BadInput } from "./case.ts";

/**
 * An initialised (untrained) MLP for the synthetic data, as `{dir}/model.safetensors`; with
 * `scale`, every weight matrix multiplied by it (finite, but far too large).
 */
async function checkpoint(dir: string, scale = 1): Promise<void> {
  const gpu = await testGpu();
  const model = new Sequential(gpu, mlp({ inputShape: [1, 8, 8], hidden: 8, layers: 1 }));
  model.initialize(0);
  for (const e of model.params.entries.filter((e) => e.spec.kind === "weight")) {
    gpu.write(e.binding.value, (await e.binding.value.read()).map((w) => w * scale));
  }
  await saveCheckpoint(`${dir}/model.safetensors`, model);
  model.dispose();
}

const analysis = (command: string, ...args: string[]) => [
  command,
  "--checkpoint",
  "{dir}/model.safetensors",
  "--data",
  "synthetic",
  "--out",
  "{dir}/out",
  ...args,
];

export const finiteCases: BadInput[] = [
  {
    name: "delta with a sigma so large the losses overflow",
    prepare: (dir) => checkpoint(dir),
    args: analysis("delta", "--sigma", "1e30", "--points", "4", "--samples", "20"),
    error:
      /loss difference L_k - L_\{k-1\} is not finite at 4 of 4 Monte-Carlo points .*use a smaller sigma/,
    code: 1,
    gpu: true,
  },
  {
    name: "sufficiency with a sigma so large the losses overflow",
    prepare: (dir) => checkpoint(dir),
    args: analysis("sufficiency", "--sigma", "1e30", "--points", "4", "--samples", "20"),
    error: /not finite at 4 of 4 Monte-Carlo points .*use a smaller sigma/,
    code: 1,
    gpu: true,
  },
  {
    name: "landscape with a range so large the losses overflow",
    prepare: (dir) => checkpoint(dir),
    args: analysis(
      "landscape",
      "--range",
      "1e30",
      "--grid",
      "3",
      "--eval-samples",
      "16",
      "--width-directions",
      "1",
    ),
    error: /landscape's mean loss is not finite at \d of 9 grid points .*use a smaller range/,
    code: 1,
    gpu: true,
  },
  {
    name: "training at a learning rate that makes the loss explode",
    args: ["train", "--lr", "10", "--epochs", "1", "--train-limit", "2000", "--out", "{dir}/out"],
    error: /training diverged: the median loss over the last 20 steps, .* lower the learning rate/,
    code: 1,
    gpu: true,
  },
  {
    name: "losses of a checkpoint whose finite weights overflow the loss",
    prepare: (dir) => checkpoint(dir, 1e25),
    args: analysis("losses"),
    error:
      /the per-sample loss is not finite at \d+ of \d+ samples \(train sample \d+: NaN.*outputs overflow float32/,
    code: 1,
    gpu: true,
  },
];
