/** Options that the chosen command, data, model or mode would not use: refused, never ignored. */
import type { BadInput } from "./case.ts";

const emptyDataDir = (dir: string) => Deno.mkdir(`${dir}/data`);
const synthetic = ["--data", "synthetic", "--out", "{dir}/out"];
const missingCheckpoint = ["--checkpoint", "{dir}/model.safetensors", "--out", "{dir}/out"];

export const unusedOptionCases: BadInput[] = [
  {
    name: "a data folder given to a preset that generates its data",
    prepare: emptyDataDir,
    args: ["all", "--preset", "tiny", "--data-dir", "{dir}/data", "--out", "{dir}/out"],
    error: /--data-dir is not used with the tiny preset's synthetic data .*; leave it out/,
    code: 2,
  },
  {
    name: "a data folder given with --data synthetic",
    prepare: emptyDataDir,
    args: ["train", "--data", "synthetic", "--data-dir", "{dir}/data", "--out", "{dir}/out"],
    error: /--data-dir is not used with --data synthetic/,
    code: 2,
  },
  {
    name: "an MLP width given to a CNN",
    args: [
      "train",
      "--model",
      "cnn",
      "--hidden",
      "32",
      "--channels",
      "2",
      "--epochs",
      "1",
      ...synthetic,
    ],
    error: /--hidden is not used with --model cnn/,
    code: 2,
  },
  {
    name: "CNN channels given to an MLP",
    args: ["train", "--head-channels", "4", "--epochs", "1", ...synthetic],
    error: /--head-channels is not used with --model mlp/,
    code: 2,
  },
  {
    name: "a subspace dimension in full space",
    args: ["delta", "--dim", "8", ...missingCheckpoint],
    error: /--dim is not used with --mode full/,
    code: 2,
  },
  {
    name: "a global norm in full space",
    args: ["sufficiency", "--global-norm", "1", ...missingCheckpoint],
    error: /--global-norm is not used with --mode full/,
    code: 2,
  },
  {
    name: "a batch size while counting samples",
    args: ["delta", "--batch-size", "32", ...missingCheckpoint],
    error: /--batch-size is not used with --counting samples/,
    code: 2,
  },
  {
    name: "a grid size given to an experiment without landscapes",
    args: ["rate", "--preset", "tiny", "--grid", "21", "--out", "{dir}/out"],
    error: /--grid is not used by rate \(only fig2, fig3, fig4 read it\)/,
    code: 2,
  },
  {
    name: "a dropout given to the experiment whose CNNs have none",
    args: ["fig4", "--preset", "tiny", "--dropout", "0.2", "--out", "{dir}/out"],
    error: /--dropout is not used by fig4/,
    code: 2,
  },
  {
    name: "a data folder given to report, which reads results, not data",
    prepare: emptyDataDir,
    args: ["report", "--data-dir", "{dir}/data", "--out", "{dir}/out"],
    error: /--data-dir is not used by report \(it rewrites the report from the results/,
    code: 2,
  },
  {
    name: "a shard given to report",
    args: ["report", "--shard", "0/2", "--out", "{dir}/out"],
    error: /--shard is not used by report/,
    code: 2,
  },
];
