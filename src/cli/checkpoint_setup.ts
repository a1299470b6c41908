/**
 * What the commands that analyse a checkpoint share: the model, and its data split the way its
 * training run split it (the record in the checkpoint's metadata, never re-drawn from an
 * analysis seed), of which --split picks the samples to use.
 * @module
 */
import { type Dataset, type DataSplits, downsample } from "../data/dataset.ts";
import type { DatasetName } from "../data/load.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { Sequential } from "../nn/sequential.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import {
  readSplit,
  type SplitName,
  SPLITS,
  type TrainingSplit,
  trainingSplit,
} from "../train/training_split.ts";
import { DATA_CHOICES, dataFrom, dataOptions, device, type deviceOptions } from "./common.ts";
import { isOwnData, ownDataOptions } from "./own_data_options.ts";
import { withClasses } from "../data/own_data.ts";
import { CliError, opt, type Parsed } from "./options.ts";
import { readModelSpec } from "./model_spec_file.ts";
import { type KeyMap, parseKeyMap } from "../train/torch_state.ts";
import { SafetensorsError } from "../train/safetensors.ts";
import { readInputText } from "../read_input.ts";

/** --checkpoint, the data options, --split and --pool. */
export const checkpointOptions = {
  checkpoint: opt.str("model checkpoint (.safetensors written by train)"),
  data: opt.maybeChoice("dataset", DATA_CHOICES, "the checkpoint's, else fashion-mnist"),
  "data-dir": dataOptions["data-dir"],
  split: opt.choice(
    "samples of the checkpoint's training split: those it was fitted on, those its training " +
      "held out for validation, or the test set",
    "train",
    SPLITS,
  ),
  validation: opt.maybeInt(
    "validation samples held out, for checkpoints that record no split [default: 1/12]",
  ),
  "train-limit": opt.maybeInt("first N training samples, for checkpoints that record no split"),
  pool: opt.int("average-pool images by this factor to match the model's input", 1, 1),
  "model-spec": opt.str(
    "JSON model spec the checkpoint's model must match, or that describes a PyTorch state dict",
  ),
  "key-map": opt.str(
    'PyTorch state dict: JSON map from its tensor names (or prefixes ending in ".") to the spec\'s',
  ),
  "key-prefix": opt.str('PyTorch state dict: prefix to strip from its tensor names, e.g. "net."'),
  ...ownDataOptions,
};

type Options = Parsed<typeof checkpointOptions> & Parsed<typeof deviceOptions>;

/** A checkpoint's model with its data. */
export interface CheckpointSetup {
  /** The device the model lives on. */
  gpu: Gpu;
  /** The restored model. */
  model: Sequential;
  /** The training split (recorded in the checkpoint, or assumed for older ones). */
  split: TrainingSplit;
  /** The split's parts, pooled by --pool. */
  data: DataSplits;
  /** The part --split names. */
  samples: Dataset;
}

function describe(s: TrainingSplit): string {
  const limit = s.trainLimit !== undefined ? ` of the first ${s.trainLimit}` : "";
  return `${s.data} with ${s.train} train + ${s.validation} validation samples${limit} ` +
    `(hold-out seed ${s.seed}), ${s.test} test`;
}

/** Refuses an option that contradicts the checkpoint's split record. */
function agree(file: string, name: string, given: unknown, recorded: unknown): void {
  if (given !== undefined && given !== recorded) {
    throw new CliError(
      `--${name} ${given} disagrees with the split ${file} was trained on (${name} ${
        recorded ?? "not set"
      }); leave --${name} out`,
    );
  }
}

/** The data split the checkpoint was trained on, and a note when it had to be assumed. */
async function checkpointSplit(
  o: Options,
  file: string,
  info: Record<string, string>,
): Promise<{ split: TrainingSplit; data: DataSplits; note?: string }> {
  const recorded = readSplit(info, file);
  if (recorded) {
    if (!(DATA_CHOICES as readonly string[]).includes(recorded.data)) {
      throw new CliError(
        `${file} was trained on "${recorded.data}", which this version cannot load`,
      );
    }
    agree(file, "data", o.data, recorded.data);
    agree(file, "validation", o.validation, recorded.validation);
    agree(file, "train-limit", o["train-limit"], recorded.trainLimit);
    agree(file, "test-fraction", o["test-fraction"], recorded.testFraction);
    if (recorded.normalization && (o.normalize !== "none" || o.mean || o.std)) {
      throw new CliError(
        `${file} records the normalisation it was trained with; leave --normalize, --mean and --std out`,
      );
    }
    const data = await dataFrom(
      {
        ...o,
        data: recorded.data as DatasetName,
        validation: recorded.validation,
        "train-limit": recorded.trainLimit,
        "test-fraction": recorded.testFraction,
      },
      recorded.seed,
      { normalization: recorded.normalization },
    );
    const found = trainingSplit(recorded.data, recorded.seed, data, recorded.trainLimit);
    if (describe(found) !== describe(recorded)) {
      throw new CliError(
        `${file} was trained on ${describe(recorded)}; the data found has ${describe(found)}: ` +
          (isOwnData(recorded.data)
            ? `pass the files it was trained on`
            : `pass the --data-dir it was trained on`),
      );
    }
    return { split: recorded, data };
  }
  // Older checkpoints: the hold-out of the training seed (train records it), else of the
  // default seed 0 of train and the presets; never of an analysis's own --seed.
  const seed = /^\d+$/.test(info.seed ?? "") ? Number(info.seed) : 0;
  const name = o.data ?? "fashion-mnist";
  // Own data with no record (a model trained elsewhere): all of it is the training part.
  const validation = o.validation ?? (isOwnData(name) ? 0 : undefined);
  const data = await dataFrom({ ...o, data: name, validation }, seed);
  const split = trainingSplit(name, seed, data, o["train-limit"]);
  const why = info.seed !== undefined ? "its training seed" : "the default training seed";
  return {
    split,
    data,
    note: isOwnData(name) && o.validation === undefined
      ? `${file} records no training split (a model trained elsewhere): all ${split.train} ` +
        `samples of the --data ${name} files are its train part, and the test files its test part`
      : `${file} records no training split; assuming ${describe(split)}, by ${why}`,
  };
}

/** The key map --key-map and --key-prefix give, if any. */
async function keyMapOf(o: Options): Promise<KeyMap | undefined> {
  const file = o["key-map"], prefix = o["key-prefix"];
  if (file !== undefined && prefix !== undefined) {
    throw new CliError("--key-map and --key-prefix are alternatives; put the prefix in the map");
  }
  if (prefix !== undefined) return { [prefix.endsWith(".") ? prefix : `${prefix}.`]: "" };
  if (file === undefined) return undefined;
  const text = await readInputText(file, {
    missing: "key map not found",
    error: (reason) => new SafetensorsError(file, reason),
  });
  return parseKeyMap(text, file);
}

/**
 * Loads --checkpoint and its data split. `tooFew(n)` returns an error message when the part
 * --split names, of n samples, is too small for the command.
 */
export async function loadCheckpointSetup(
  o: Options,
  tooFew: (n: number) => string | undefined = () => undefined,
): Promise<CheckpointSetup> {
  if (!o.checkpoint) {
    throw new CliError(`--checkpoint is required (train one with 'deno task experiment train')`);
  }
  const gpu = await device(o);
  const spec = o["model-spec"];
  const expected = spec === undefined
    ? undefined
    : { config: await readModelSpec(spec), file: spec };
  const { model, info } = await loadCheckpoint(gpu, o.checkpoint, {
    expected,
    keyMap: await keyMapOf(o),
  });
  try {
    const { split, data: loaded, note } = await checkpointSplit(o, o.checkpoint, info);
    if (note) console.error(`note: ${note}`);
    const pooled = {
      train: downsample(loaded.train, o.pool),
      validation: downsample(loaded.validation, o.pool),
      test: downsample(loaded.test, o.pool),
    };
    // Own data's classes are the model's, whichever labels the samples happen to hold.
    const outputs = model.outputShape;
    const data = isOwnData(split.data) && outputs.length === 1 &&
        pooled.train.classes <= outputs[0]
      ? withClasses(pooled, outputs[0])
      : pooled;
    const want = model.config.inputShape.join(), got = data.train.shape.join();
    if (want !== got) {
      throw new CliError(
        `the model expects [${want}] inputs, the data gives [${got}]; pass --pool or --data to match`,
      );
    }
    const part: SplitName = o.split;
    const samples = data[part];
    const problem = tooFew(samples.labels.length);
    if (problem) throw new CliError(problem);
    return { gpu, model, split, data, samples };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
