/**
 * PyTorch state dicts as checkpoints: a state dict saved from an nn.Sequential has the keys
 * this tool uses ("<layer index>.<name>"), plus batch norm's num_batches_tracked counter; a
 * model whose Sequential sits under a name ("features.0.weight") or is split over several is
 * read through a key map from the file's names to the spec's.
 * @module
 */
import type { ModelConfig } from "../nn/model_config.ts";
import { type NamedTensor, SafetensorsError } from "./safetensors.ts";

/** File key (or key prefix, ending in ".") to spec key (or prefix). */
export type KeyMap = Record<string, string>;

/** The key map in JSON text `text` (an object of strings); `file` names it in errors. */
export function parseKeyMap(text: string, file: string): KeyMap {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(file, `key map is not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new SafetensorsError(
      file,
      `key map must be an object from the file's names to the spec's, e.g. {"features.": ""}`,
    );
  }
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") {
      throw new SafetensorsError(
        file,
        `key map entry "${k}" must map to a string, got ${JSON.stringify(v)}`,
      );
    }
  }
  return raw as KeyMap;
}

/**
 * `tensors` renamed by `map`: an exact entry wins, else the longest prefix entry (a key ending
 * in ".") replaces that prefix; other names stay. Two names that land on one key are an error.
 */
export function renameKeys(
  tensors: Record<string, NamedTensor>,
  map: KeyMap,
  file: string,
): Record<string, NamedTensor> {
  const prefixes = Object.keys(map).filter((k) => k.endsWith(".")).sort((a, b) =>
    b.length - a.length
  );
  const out: Record<string, NamedTensor> = {};
  const from: Record<string, string> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const prefix = prefixes.find((p) => name.startsWith(p));
    const key = map[name] ??
      (prefix !== undefined ? map[prefix] + name.slice(prefix.length) : name);
    if (key in out) {
      throw new SafetensorsError(file, `the key map sends both ${from[key]} and ${name} to ${key}`);
    }
    out[key] = t;
    from[key] = name;
  }
  return out;
}

/** Batch norm's num_batches_tracked key of every batch-norm layer, as PyTorch names them. */
export function batchCounterKeys(config: ModelConfig): string[] {
  return config.layers.flatMap((l, i) =>
    l.type === "batchnorm" ? [`${i}.num_batches_tracked`] : []
  );
}
