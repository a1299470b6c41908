/**
 * Options and helpers shared by the commands: data, model, output folder, device.
 * @module
 */
import { Gpu } from "../gpu/gpu.ts";
import { type GemmVariant, setGemmVariant } from "../nn/gemm.ts";
import { tunedGemm } from "../nn/gemm_cache.ts";
import { type DatasetName, DATASETS, loadData, type LoadedData } from "../data/load.ts";
import { cnn, mlp, type ModelConfig } from "../nn/model_config.ts";
import { CliError, onlyWhere, opt, type Parsed } from "./options.ts";
import { checkModelFitsData, MODEL_SPEC_HELP, readModelSpec } from "./model_spec_file.ts";
import type { Dataset } from "../data/dataset.ts";
import { OWN_DATA, type OwnDataName } from "../data/own_data.ts";
import {
  checkOwnDataOptions,
  isOwnData,
  ownDataFrom,
  ownDataOptions,
  type OwnDataSplit,
} from "./own_data_options.ts";

/** Every --data: the datasets the tool knows and a user's own. */
export const DATA_CHOICES = [...DATASETS, ...OWN_DATA] as const;

/** --data, --data-dir, --validation, --train-limit, and own data's options. */
export const dataOptions = {
  data: opt.choice<DatasetName | OwnDataName>("dataset", "fashion-mnist", DATA_CHOICES),
  "data-dir": onlyWhere(
    opt.str("directory of the dataset files (cifar10: the cifar-10-batches-bin folder)", "auto"),
    (o) =>
      o.data === "synthetic"
        ? "with --data synthetic (its data is generated)"
        : isOwnData(o.data as string)
        ? `with --data ${o.data} (it reads the files its own options name)`
        : undefined,
  ),
  validation: opt.maybeInt("training samples held out for validation [default: 1/12]"),
  "train-limit": opt.maybeInt("use only the first N training samples"),
  ...ownDataOptions,
};

/** The spec is the whole model: an architecture option beside it would go unused. */
const withoutSpec = (o: Record<string, unknown>) =>
  o["model-spec"] !== undefined ? "with --model-spec (the spec is the whole model)" : undefined;
const forMlpOnly = (o: Record<string, unknown>) =>
  withoutSpec(o) ?? (o.model === "cnn" ? "with --model cnn (it sets the MLP's width)" : undefined);
const forCnnOnly = (o: Record<string, unknown>) =>
  withoutSpec(o) ??
    (o.model === "mlp" ? "with --model mlp (it sets the CNN's channels)" : undefined);

/** --model and the architecture options. */
export const modelOptions = {
  model: onlyWhere(opt.choice("architecture", "mlp", ["mlp", "cnn"] as const), withoutSpec),
  hidden: onlyWhere(opt.int("MLP: width of the hidden layers", 128, 1), forMlpOnly),
  layers: onlyWhere(opt.int("MLP: hidden layers; CNN: conv blocks", 4, 0), withoutSpec),
  channels: onlyWhere(opt.int("CNN: channels of the conv blocks", 64, 1), forCnnOnly),
  "head-channels": onlyWhere(opt.int("CNN: channels of the last conv", 16, 1), forCnnOnly),
  "batch-norm": onlyWhere(opt.flag("BatchNorm after every ReLU"), withoutSpec),
  dropout: onlyWhere(
    opt.num("dropout probability after every block", 0, 0, false, 0.99),
    withoutSpec,
  ),
  "model-spec": opt.str(MODEL_SPEC_HELP),
};

/** The model an option set describes, for per-sample input `inputShape`. */
export function modelFrom(
  o: Parsed<typeof modelOptions>,
  inputShape: number[],
  classes: number,
): ModelConfig {
  const common = { inputShape, classes, batchNorm: o["batch-norm"], dropout: o.dropout };
  return o.model === "mlp" ? mlp({ ...common, hidden: o.hidden, layers: o.layers }) : cnn({
    ...common,
    channels: o.channels,
    convLayers: o.layers,
    headChannels: o["head-channels"],
  });
}

/** The model --model-spec describes, checked against `data`, else the one the options build. */
export async function modelFor(
  o: Parsed<typeof modelOptions>,
  data: Dataset,
): Promise<ModelConfig> {
  const file = o["model-spec"];
  if (file === undefined) return modelFrom(o, data.shape, data.classes);
  const config = await readModelSpec(file);
  checkModelFitsData(file, config, data);
  return config;
}

/**
 * Loads the data an option set names; own data as `own` says beyond the options (a
 * checkpoint's recorded statistics, whether test samples are needed).
 */
export async function dataFrom(
  o: Parsed<typeof dataOptions>,
  seed: number,
  own: Omit<OwnDataSplit, "seed" | "validation" | "trainLimit"> = {},
): Promise<LoadedData> {
  if (isOwnData(o.data)) {
    if (o["data-dir"] !== undefined) {
      throw new CliError(
        `--data-dir is not used with --data ${o.data} (it reads the files its own options ` +
          `name); leave it out`,
      );
    }
    return await ownDataFrom(o, {
      ...own,
      seed,
      validation: o.validation,
      trainLimit: o["train-limit"],
    });
  }
  checkOwnDataOptions(o, o.data);
  const dir = o["data-dir"];
  if (dir !== undefined) {
    try {
      Deno.statSync(dir);
    } catch {
      throw new CliError(`--data-dir "${dir}" does not exist`);
    }
  }
  return await loadData({
    data: o.data as DatasetName,
    dataDir: dir,
    validation: o.validation,
    trainLimit: o["train-limit"],
    seed,
  });
}

/** --verbose and --kernels. */
export const deviceOptions = {
  verbose: opt.flag("print the adapter and more detail"),
  kernels: opt.choice(
    "matrix-product core: default (by adapter type), tiled, register, or tune (measured once per adapter, cached)",
    "default",
    ["default", "tiled", "register", "tune"] as const,
  ),
};

/**
 * Creates a device, printing the adapter when verbose, with the matrix-product core
 * --kernels names.
 */
export async function device(o: Parsed<typeof deviceOptions>): Promise<Gpu> {
  const gpu = await Gpu.create({ verbose: o.verbose });
  if (o.kernels === "tune") {
    const tuning = await tunedGemm(gpu);
    if (o.verbose) console.error(`kernels: ${tuning.variant} (${tuning.source})`);
  } else if (o.kernels !== "default") setGemmVariant(gpu, o.kernels as GemmVariant);
  return gpu;
}

/** The JSON text of an output file. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}
