/** Bad inputs about a checkpoint's training split and the samples taken from it. */
import { join } from "node:path";
import { decodeSafetensors, encodeSafetensors } from "../../src/train/safetensors.ts";
import { SPLIT_KEY } from "../../src/train/training_split.ts";
import { cli } from "../cli_run.ts";
import type { BadInput } from "./case.ts";

let trained: Promise<Uint8Array> | null = null;

/** The bytes of a tiny MLP checkpoint trained on synthetic data (2200 + 200 + 600 samples). */
function checkpointBytes(): Promise<Uint8Array> {
  return trained ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "split corpus " });
    try {
      const r = await cli(
        ...["train", "--data", "synthetic", "--hidden", "4", "--layers", "1", "--epochs", "1"],
        // A step large enough that one epoch beats chance (train refuses a model at chance).
        ...["--lr", "1e-2", "--out", dir],
      );
      if (r.code !== 0) throw new Error(`training the corpus checkpoint failed:\n${r.out}`);
      return await Deno.readFile(join(dir, "model.safetensors"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  })();
}

/** Writes the checkpoint as {dir}/model.safetensors, its split record replaced by `split`. */
function checkpointWith(split?: string): (dir: string) => Promise<void> {
  return async (dir) => {
    let bytes = await checkpointBytes();
    if (split !== undefined) {
      const { tensors, metadata } = decodeSafetensors("corpus", bytes);
      bytes = encodeSafetensors(tensors, { ...metadata, [SPLIT_KEY]: split });
    }
    await Deno.writeFile(join(dir, "model.safetensors"), bytes);
  };
}

const CK = ["--checkpoint", "{dir}/model.safetensors", "--out", "{dir}/out"];

export const splitCases: BadInput[] = [
  {
    name: "--split that names no part of a split",
    args: ["delta", "--split", "holdout", ...CK],
    error: /--split must be one of train, validation, test, got "holdout"/,
    code: 2,
  },
  {
    name: "losses without a checkpoint",
    args: ["losses", "--out", "{dir}/out"],
    error: /--checkpoint is required/,
    code: 2,
  },
  {
    name: "--data other than the checkpoint was trained on",
    prepare: checkpointWith(),
    args: ["delta", "--data", "fashion-mnist", ...CK],
    error:
      /--data fashion-mnist disagrees with the split .*model\.safetensors was trained on \(data synthetic\); leave --data out/,
    code: 2,
    gpu: true,
  },
  {
    name: "--validation other than the checkpoint's hold-out",
    prepare: checkpointWith(),
    args: ["landscape", "--validation", "10", ...CK],
    error: /--validation 10 disagrees with the split .* \(validation 200\); leave --validation out/,
    code: 2,
    gpu: true,
  },
  {
    name: "more --samples than the chosen part of the split has",
    prepare: checkpointWith(),
    args: ["sufficiency", "--split", "validation", "--samples", "300", ...CK],
    error:
      /--samples 300 exceeds the 200 samples of the validation split; pass --samples 200 or less, or another --split/,
    code: 2,
    gpu: true,
  },
  {
    name: "a damaged split record in a checkpoint",
    prepare: checkpointWith('{"data":"synthetic"'),
    args: ["losses", ...CK],
    error: /model\.safetensors: metadata "split" is not a training split record/,
    code: 1,
    gpu: true,
  },
  {
    name: "a split record of data other than the data found",
    prepare: checkpointWith(
      JSON.stringify({ data: "synthetic", seed: 0, train: 1000, validation: 200, test: 600 }),
    ),
    args: ["losses", ...CK],
    error:
      /trained on synthetic with 1000 train \+ 200 validation samples .*; the data found has synthetic with 2200 train .*: pass the --data-dir it was trained on/,
    code: 2,
    gpu: true,
  },
];
