/**
 * Model checkpoints in safetensors: every parameter and running statistic under PyTorch-style
 * keys ("<layer index>.<name>", as in an nn.Sequential of the same layers), the model config
 * and any extra information as metadata, and optionally Adam's state. Written to a temporary
 * file and renamed, so an interrupted save never leaves a corrupt checkpoint.
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import type { ModelConfig } from "../nn/model_config.ts";
import { modelDifference } from "../nn/model_spec.ts";
import { batchCounterKeys, renameKeys } from "./torch_state.ts";
import { Sequential } from "../nn/sequential.ts";
import type { Adam } from "../optim/adam.ts";
import { readTensors } from "../tensor.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type NamedTensor,
  SafetensorsError,
} from "./safetensors.ts";
import { writeAtomic } from "../report/atomic.ts";
import { readInput } from "../read_input.ts";

const OPT_M = "optimizer.m";
const OPT_V = "optimizer.v";

/**
 * Saves `model` (and optionally Adam's moments) to `path`, atomically.
 * @param info Free-form metadata stored with the weights, e.g. epoch or seed (default none).
 * @param optimizer Adam, whose step and moments are stored too (default: weights only).
 */
export async function saveCheckpoint(
  path: string,
  model: Sequential,
  info?: Record<string, string>,
  optimizer?: Adam,
): Promise<void> {
  const bytes = await checkpointBytes(model, info, optimizer);
  await writeAtomic(path, bytes);
}

/**
 * The safetensors bytes of a checkpoint of `model` (and optionally Adam's moments).
 * @param info Free-form metadata stored with the weights, e.g. epoch or seed (default none).
 * @param optimizer Adam, whose step and moments are stored too (default: weights only).
 */
export async function checkpointBytes(
  model: Sequential,
  info?: Record<string, string>,
  optimizer?: Adam,
): Promise<Uint8Array> {
  info ??= {};
  const entries = model.params.entries;
  const extra = optimizer ? [optimizer.m, optimizer.v] : [];
  const [values, stats, ...moments] = await readTensors([
    model.params.values,
    model.params.stats,
    ...extra,
  ]);
  const tensors: Record<string, NamedTensor> = {};
  // PyTorch's load_state_dict (strict) wants batch norm's counter too; 0: not tracked here.
  for (const key of batchCounterKeys(model.config)) {
    tensors[key] = { shape: [], data: new Float32Array(1), dtype: "I64" };
  }
  for (const e of entries) {
    const source = e.spec.kind === "running" ? stats : values;
    const at = (e.binding.value.byteOffset -
      (e.spec.kind === "running" ? model.params.stats : model.params.values).byteOffset) / 4;
    tensors[e.key] = { shape: e.spec.shape, data: source.slice(at, at + e.binding.value.size) };
  }
  const metadata: Record<string, string> = {
    ...info,
    config: JSON.stringify(model.config),
    format: CHECKPOINT_FORMAT,
  };
  if (optimizer) {
    tensors[OPT_M] = { shape: [moments[0].length], data: moments[0] };
    tensors[OPT_V] = { shape: [moments[1].length], data: moments[1] };
    metadata["optimizer.step"] = String(optimizer.step);
  }
  return encodeSafetensors(tensors, metadata);
}

/** A model restored from a checkpoint, with its metadata. */
export interface LoadedCheckpoint {
  /** The restored model. */
  model: Sequential;
  /** Metadata stored with the weights (includes "config"). */
  info: Record<string, string>;
  /** Adam's step and moments, when saved. */
  optimizer?: { step: number; m: Float32Array; v: Float32Array };
}

/** A model spec a checkpoint must match, or that describes a checkpoint that stores none. */
export interface ExpectedModel {
  /** The model. */
  config: ModelConfig;
  /** Where it came from (the spec file), for errors. */
  file: string;
}

/** How to read a checkpoint that is not this tool's (a PyTorch state dict). */
export interface CheckpointSource {
  /** The model, required where the file stores none. */
  expected?: ExpectedModel;
  /**
   * Renames the file's tensors to the model's keys: file key (or key prefix, ending in ".") to
   * spec key (or prefix); default none, the file's keys are the model's.
   */
  keyMap?: Record<string, string>;
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint}, or a PyTorch state dict with the model
 * `source` gives, onto `gpu`; with `source.expected`, its model must be that one.
 * @param source The model to expect and the renaming of the file's tensors (default: the
 * model the file's config describes, under its own keys).
 */
export async function loadCheckpoint(
  gpu: Gpu,
  path: string,
  source?: CheckpointSource,
): Promise<LoadedCheckpoint> {
  const bytes = await readInput(path, {
    missing: "checkpoint not found",
    error: (reason) => new SafetensorsError(path, reason),
  });
  return checkpointFromBytes(gpu, path, bytes, source);
}

/** A hint for state-dict keys under a module name ("features.0.weight"). */
function namedHint(keys: string[]): string {
  const named = keys.map((k) => /^(.*\.)\d+\.[a-z_]+$/.exec(k)?.[1]).find((p) => p);
  return named
    ? `; the file's keys are named like ${keys[0]}: pass --key-prefix ${named} or --key-map FILE`
    : "";
}

/** The `__metadata__.format` this version writes and reads. */
export const CHECKPOINT_FORMAT = "landscape-1";

/** Where the first NaN or infinity of `data` is, or -1. */
function firstNonFinite(data: Float32Array): number {
  return data.findIndex((v) => !Number.isFinite(v));
}

/**
 * The model config in a checkpoint's metadata, checked against `expected`, or an error naming
 * the field.
 */
function readConfig(
  path: string,
  metadata: Record<string, string>,
  expected?: ExpectedModel,
): ModelConfig {
  // A state dict saved from PyTorch stores no model: the spec describes it.
  if (!metadata.config && expected) return expected.config;
  const config = storedConfig(path, metadata);
  const differs = expected && modelDifference(config, expected.config);
  if (differs) {
    throw new SafetensorsError(
      path,
      `its model differs from the spec ${expected.file} (${differs}); pass the spec it was ` +
        `saved with, or leave --model-spec out`,
    );
  }
  return config;
}

function storedConfig(path: string, metadata: Record<string, string>): ModelConfig {
  if (!metadata.config) {
    throw new SafetensorsError(
      path,
      "no model config in the metadata (not a checkpoint of this tool); for a PyTorch state " +
        "dict pass --model-spec FILE describing its nn.Sequential",
    );
  }
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new SafetensorsError(
      path,
      `__metadata__.format is ${
        JSON.stringify(metadata.format ?? null)
      }; this version reads "${CHECKPOINT_FORMAT}"`,
    );
  }
  let config: ModelConfig;
  try {
    config = JSON.parse(metadata.config);
  } catch (e) {
    throw new SafetensorsError(path, `__metadata__.config is not JSON (${(e as Error).message})`);
  }
  if (
    typeof config !== "object" || config === null || !Array.isArray(config.inputShape) ||
    !Array.isArray(config.layers)
  ) {
    throw new SafetensorsError(
      path,
      "__metadata__.config must be a model: an object with inputShape and layers",
    );
  }
  return config;
}

/** Adam's state in a checkpoint: both moments, one value per parameter, and a step count. */
function readOptimizer(
  path: string,
  tensors: Record<string, NamedTensor>,
  metadata: Record<string, string>,
  parameters: number,
): LoadedCheckpoint["optimizer"] {
  const [m, v] = [tensors[OPT_M], tensors[OPT_V]];
  if (!m && !v) return undefined;
  if (!m || !v) {
    throw new SafetensorsError(path, `${m ? OPT_V : OPT_M} is missing (Adam needs both moments)`);
  }
  for (const [name, t] of [[OPT_M, m], [OPT_V, v]] as const) {
    if (t.data.length !== parameters) {
      throw new SafetensorsError(
        path,
        `${name} has ${t.data.length} values, the model has ${parameters} parameters`,
      );
    }
  }
  const step = Number(metadata["optimizer.step"] ?? 0);
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new SafetensorsError(
      path,
      `__metadata__.optimizer.step must be a non-negative integer, got "${
        metadata["optimizer.step"]
      }"`,
    );
  }
  return { step, m: m.data, v: v.data };
}

/**
 * Restores a checkpoint from its bytes onto `gpu` (e.g. fetched by a browser); `name`
 * identifies it in errors. Everything is checked before a result comes back: the format, the
 * config, one tensor of the right shape per parameter and nothing else, and finite values
 * (a diverged training run's NaN weights would otherwise give NaN landscapes).
 * @param source The model to expect and the renaming of the file's tensors (default: the
 * model the file's config describes, under its own keys).
 */
export function checkpointFromBytes(
  gpu: Gpu,
  name: string,
  bytes: Uint8Array,
  source?: CheckpointSource,
): LoadedCheckpoint {
  source ??= {};
  const path = name;
  const decoded = decodeSafetensors(path, bytes);
  const { metadata } = decoded;
  const tensors = source.keyMap
    ? renameKeys(decoded.tensors, source.keyMap, path)
    : decoded.tensors;
  for (const [key, t] of Object.entries(tensors)) {
    const at = firstNonFinite(t.data);
    if (at >= 0) {
      throw new SafetensorsError(
        path,
        `${key} holds ${
          t.data[at]
        } at index ${at}; weights must be finite (did training diverge? retrain with a lower learning rate)`,
      );
    }
  }
  const config = readConfig(path, metadata, source.expected);
  let model: Sequential;
  try {
    model = new Sequential(gpu, config);
  } catch (e) {
    throw new SafetensorsError(
      path,
      `__metadata__.config does not describe a model (${(e as Error).message})`,
    );
  }
  try {
    // PyTorch's batch counters are read and ignored (used only with momentum None).
    const known = new Set([OPT_M, OPT_V, ...batchCounterKeys(config)]);
    for (const e of model.params.entries) {
      known.add(e.key);
      const t = tensors[e.key];
      if (!t) {
        throw new SafetensorsError(
          path,
          `missing tensor ${e.key}${
            e.key in decoded.tensors || source.keyMap ? "" : namedHint(Object.keys(tensors))
          }`,
        );
      }
      if (t.dtype === "I64") {
        throw new SafetensorsError(path, `${e.key} is I64; weights must be floating point`);
      }
      if (t.shape.join() !== e.spec.shape.join()) {
        throw new SafetensorsError(
          path,
          `${e.key} has shape [${t.shape}], the model needs [${e.spec.shape}]`,
        );
      }
    }
    const extra = Object.keys(tensors).filter((k) => !known.has(k));
    if (extra.length > 0) {
      throw new SafetensorsError(
        path,
        `tensor${extra.length > 1 ? "s" : ""} ${extra.join(", ")} not in the model ${
          JSON.stringify(config.name)
        }`,
      );
    }
    const optimizer = readOptimizer(path, tensors, metadata, model.params.values.size);
    for (const e of model.params.entries) gpu.write(e.binding.value, tensors[e.key].data);
    model.params.markAssigned();
    return { model, info: metadata, optimizer };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
