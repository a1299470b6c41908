/**
 * Sizes beyond this adapter, host or data: refused before any direction is drawn, model trained
 * or file written, naming the option and the largest value that fits.
 */
import { cli } from "../cli_run.ts";
import type { BadInput } from "./case.ts";

/** A small MLP checkpoint on synthetic data in `{dir}/model`. */
async function trainModel(dir: string): Promise<void> {
  const r = await cli(
    ..."train --data synthetic --hidden 8 --layers 1 --epochs 1 --out".split(" "),
    `${dir}/model`,
  );
  if (r.code !== 0) throw new Error(r.out);
}

const onModel = ["--checkpoint", "{dir}/model/model.safetensors", "--data", "synthetic"];
const out = ["--out", "{dir}/out"];

export const sizeCases: BadInput[] = [
  {
    name: "a subspace too large for one buffer (refused before drawing its directions)",
    prepare: trainModel,
    args: ["delta", ...onModel, ...out, ..."--mode subspace --dim 100000 --points 4".split(" ")],
    error:
      /--dim 100000 needs .* for the directions .*maxStorageBufferBindingSize.*; the largest that fits is --dim \d+$/m,
    code: 2,
    gpu: true,
  },
  {
    name: "a loss matrix of points x samples beyond one buffer",
    prepare: trainModel,
    args: ["delta", ...onModel, ...out, "--points", "100000", "--samples", "2000"],
    error:
      /--points 100000 with --samples 2000 needs .* for the loss matrix .* is --points \d+ or --samples \d+$/m,
    code: 2,
    gpu: true,
  },
  {
    name: "a landscape grid beyond one buffer, in a shard",
    prepare: trainModel,
    args: ["landscape", ...onModel, ...out, "--grid", "100000", "--shard", "0/2"],
    error: /--grid 100000 .*needs .*; the largest that fits.* is --grid \d+$/m,
    code: 2,
    gpu: true,
  },
  {
    name: "an experiment's subspace dimension beyond one buffer (refused before training)",
    args: ["all", "--preset", "tiny", "--dims", "1,1000000000", ...out],
    error:
      /--dims 1,1000000000 needs .* for the directions .*; the largest that fits is --dims \d+$/m,
    code: 2,
    gpu: true,
  },
  {
    name: "an experiment's Δk samples beyond the data (refused before training)",
    args: ["rate", "--preset", "tiny", "--samples", "100000000", ...out],
    error: /--samples 100000000 needs .* the largest that fits is --samples 2200$/m,
    code: 2,
    gpu: true,
  },
  {
    name: "integrand maps for a k beyond the data",
    args: ["fig6", "--preset", "tiny", "--integrand-ks", "1,5000", ...out],
    error:
      /--integrand-ks 1,5000 needs 5001 samples .* the largest that fits is --integrand-ks 2199$/m,
    code: 2,
    gpu: true,
  },
  {
    name: "a training batch larger than the data",
    args: ["train", "--data", "synthetic", "--batch-size", "100000000", ...out],
    error:
      /--batch-size 100000000 needs .* above the training samples .*; the largest that fits is --batch-size 2200$/m,
    code: 2,
    gpu: true,
  },
  {
    name: "a training batch whose activations exceed one buffer",
    args: [
      "train",
      ..."--data synthetic --model cnn --channels 4000 --batch-size 2000".split(" "),
      ...out,
    ],
    error:
      /--batch-size 2000 needs .* for the widest activation .*; the largest that fits is --batch-size \d+$/m,
    code: 2,
    gpu: true,
  },
];
