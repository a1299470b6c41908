/** Settings whose numbers come out NaN or infinite, and training that diverges. */
import { mlp } from "../../src/nn/model_config.ts";
import { Sequential } from "../../src/nn/sequential.ts";
import { saveCheckpoint } from "../../src/train/checkpoint.ts";
import { testGpu } from "../helpers.ts";
import type { BadInput } from "./case.ts";

/** An initialised (untrained) MLP for the synthetic data, as `{dir}/model.safetensors`. */
async function checkpoint(dir: string): Promise<void> {
  const model = new Sequential(
    await testGpu(),
    mlp({ inputShape: [1, 8, 8], hidden: 8, layers: 1 }),
  );
  model.initialize(0);
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
    prepare: checkpoint,
    args: analysis("delta", "--sigma", "1e30", "--points", "4", "--samples", "20"),
    error:
      /loss difference L_k - L_\{k-1\} is not finite at 4 of 4 Monte-Carlo points .*use a smaller sigma/,
    code: 1,
    gpu: true,
  },
  {
    name: "sufficiency with a sigma so large the losses overflow",
    prepare: checkpoint,
    args: analysis("sufficiency", "--sigma", "1e30", "--points", "4", "--samples", "20"),
    error: /not finite at 4 of 4 Monte-Carlo points .*use a smaller sigma/,
    code: 1,
    gpu: true,
  },
  {
    name: "landscape with a range so large the losses overflow",
    prepare: checkpoint,
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
];
