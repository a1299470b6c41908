/**
 * Model checkpoints in safetensors: every parameter and running statistic under PyTorch-style
 * keys ("<layer index>.<name>", as in an nn.Sequential of the same layers), the model config
 * and any extra information as metadata, and optionally Adam's state. Written to a temporary
 * file and renamed, so an interrupted save never leaves a corrupt checkpoint.
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import type { ModelConfig } from "../nn/model_config.ts";
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

/** What a checkpoint holds besides the weights. */
export interface CheckpointInfo {
  /** Free-form string values stored as metadata (e.g. epoch, accuracy, seed). */
  [key: string]: string;
}

const OPT_M = "optimizer.m";
const OPT_V = "optimizer.v";

/** Saves `model` (and optionally Adam's moments) to `path`, atomically. */
export async function saveCheckpoint(
  path: string,
  model: Sequential,
  info: CheckpointInfo = {},
  optimizer?: Adam,
): Promise<void> {
  const bytes = await checkpointBytes(model, info, optimizer);
  await writeAtomic(path, bytes);
}

/** The safetensors bytes of a checkpoint of `model` (and optionally Adam's moments). */
export async function checkpointBytes(
  model: Sequential,
  info: CheckpointInfo = {},
  optimizer?: Adam,
): Promise<Uint8Array> {
  const entries = model.params.entries;
  const extra = optimizer ? [optimizer.m, optimizer.v] : [];
  const [values, stats, ...moments] = await readTensors([
    model.params.values,
    model.params.stats,
    ...extra,
  ]);
  const tensors: Record<string, NamedTensor> = {};
  for (const e of entries) {
    const source = e.spec.kind === "running" ? stats : values;
    const at = (e.binding.value.byteOffset -
      (e.spec.kind === "running" ? model.params.stats : model.params.values).byteOffset) / 4;
    tensors[e.key] = { shape: e.spec.shape, data: source.slice(at, at + e.binding.value.size) };
  }
  const metadata: Record<string, string> = {
    ...info,
    config: JSON.stringify(model.config),
    format: "landscape-1",
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

/** Loads a checkpoint written by {@link saveCheckpoint} onto `gpu`. */
export async function loadCheckpoint(gpu: Gpu, path: string): Promise<LoadedCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new SafetensorsError(
      path,
      e instanceof Deno.errors.NotFound ? "checkpoint not found" : (e as Error).message,
    );
  }
  return checkpointFromBytes(gpu, path, bytes);
}

/**
 * Restores a checkpoint from its bytes onto `gpu` (e.g. fetched by a browser); `name`
 * identifies it in errors.
 */
export function checkpointFromBytes(
  gpu: Gpu,
  name: string,
  bytes: Uint8Array,
): LoadedCheckpoint {
  const path = name;
  const { tensors, metadata } = decodeSafetensors(path, bytes);
  if (!metadata.config) {
    throw new SafetensorsError(
      path,
      "no model config in the metadata (not a checkpoint of this tool)",
    );
  }
  const config = JSON.parse(metadata.config) as ModelConfig;
  const model = new Sequential(gpu, config);
  for (const e of model.params.entries) {
    const t = tensors[e.key];
    if (!t) throw new SafetensorsError(path, `missing tensor ${e.key}`);
    if (t.shape.join() !== e.spec.shape.join()) {
      throw new SafetensorsError(
        path,
        `${e.key} has shape [${t.shape}], the model needs [${e.spec.shape}]`,
      );
    }
    gpu.write(e.binding.value, t.data);
  }
  const optimizer = tensors[OPT_M] && tensors[OPT_V]
    ? {
      step: Number(metadata["optimizer.step"] ?? 0),
      m: tensors[OPT_M].data,
      v: tensors[OPT_V].data,
    }
    : undefined;
  return { model, info: metadata, optimizer };
}
