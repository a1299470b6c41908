/**
 * Model spec files: a user's own architecture as JSON, the same description a checkpoint stores
 * in its metadata (`inputShape`, `layers`), plus the class count. Every field is checked and
 * the shapes are walked layer by layer, so a spec that does not fit together is refused naming
 * the layer, its kind and the shapes that disagree, before anything is built on the GPU.
 *
 * ```json
 * { "name": "small-cnn", "inputShape": [1, 28, 28], "classes": 10, "layers": [
 *   { "type": "conv2d", "in": 1, "out": 8, "kernel": 3, "padding": 1 },
 *   { "type": "batchnorm2d" }, { "type": "relu" }, { "type": "maxpool", "kernel": 2 },
 *   { "type": "flatten" }, { "type": "dense", "in": 1568, "out": 10 } ] }
 * ```
 * @module
 */
import type { LayerSpec, ModelConfig } from "./model_config.ts";
import { buildLayer } from "./sequential.ts";

/** Thrown for an unusable model spec; the message names the file and the problem. */
export class ModelSpecError extends Error {
  /** An error about the spec `file`. */
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "ModelSpecError";
  }
}

type FieldKind = "count" | "natural" | "probability" | "positive" | "fraction";

/** Each layer kind's fields: required ones first, then optional ones (marked "?"). */
const KINDS: Record<string, Record<string, FieldKind>> = {
  dense: { in: "count", out: "count" },
  conv2d: { in: "count", out: "count", kernel: "count", "stride?": "count", "padding?": "natural" },
  relu: {},
  batchnorm: { "momentum?": "fraction", "eps?": "positive" },
  dropout: { p: "probability" },
  flatten: {},
  maxpool: { kernel: "count", "stride?": "count" },
  avgpool: { kernel: "count", "stride?": "count" },
  globalavgpool: {},
};

/** PyTorch's names for the engine's layer kinds, and the input rank each batch norm takes. */
const ALIASES: Record<string, { type: string; rank?: number }> = {
  linear: { type: "dense" },
  batchnorm1d: { type: "batchnorm", rank: 1 },
  batchnorm2d: { type: "batchnorm", rank: 3 },
  maxpool2d: { type: "maxpool" },
  avgpool2d: { type: "avgpool" },
};

const WANT: Record<FieldKind, [string, (v: number) => boolean]> = {
  count: ["an integer >= 1", (v) => Number.isInteger(v) && v >= 1],
  natural: ["an integer >= 0", (v) => Number.isInteger(v) && v >= 0],
  probability: ["a number in [0, 1)", (v) => v >= 0 && v < 1],
  fraction: ["a number in [0, 1]", (v) => v >= 0 && v <= 1],
  positive: ["a finite number > 0", (v) => Number.isFinite(v) && v > 0],
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** One layer's fields checked against its kind; returns the engine's spec and rank needs. */
function checkLayer(file: string, i: number, raw: unknown): { spec: LayerSpec; rank?: number } {
  const fail = (problem: string) => new ModelSpecError(file, `layer ${i}: ${problem}`);
  if (!isObject(raw)) throw fail(`must be an object with a "type", got ${JSON.stringify(raw)}`);
  const given = typeof raw.type === "string" ? raw.type.toLowerCase() : raw.type;
  const alias = typeof given === "string" ? ALIASES[given] : undefined;
  const type = alias?.type ?? given;
  const fields = typeof type === "string" ? KINDS[type] : undefined;
  if (!fields) {
    throw fail(
      `unknown layer kind ${JSON.stringify(raw.type)}; known: ${
        [...Object.keys(KINDS), ...Object.keys(ALIASES)].join(", ")
      }`,
    );
  }
  const names = Object.keys(fields).map((f) => f.replace("?", ""));
  const spec: Record<string, unknown> = { type };
  for (const key of Object.keys(raw)) {
    if (key !== "type" && !names.includes(key)) {
      throw fail(
        `unknown field "${key}" for ${given}${
          names.length ? `; its fields are ${names.join(", ")}` : " (it has no fields)"
        }`,
      );
    }
  }
  for (const [field, kind] of Object.entries(fields)) {
    const name = field.replace("?", "");
    const value = raw[name];
    if (value === undefined) {
      if (field.endsWith("?")) continue;
      throw fail(`${given} needs field "${name}" (${WANT[kind][0]})`);
    }
    if (typeof value !== "number" || !WANT[kind][1](value)) {
      throw fail(
        `field "${name}" of ${given} must be ${WANT[kind][0]}, got ${JSON.stringify(value)}`,
      );
    }
    spec[name] = value;
  }
  return { spec: spec as LayerSpec, rank: alias?.rank };
}

/**
 * The model a spec's JSON text describes; `file` names it in errors. The per-sample shape is
 * walked through every layer, and the last layer must give `classes` outputs.
 */
export function parseModelSpec(text: string, file: string): ModelConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelSpecError(file, `not JSON (${(e as Error).message})`);
  }
  if (!isObject(raw)) {
    throw new ModelSpecError(file, "must be a JSON object with inputShape, classes and layers");
  }
  for (const key of Object.keys(raw)) {
    if (!["name", "inputShape", "classes", "layers"].includes(key)) {
      throw new ModelSpecError(
        file,
        `unknown field "${key}"; a spec has name, inputShape, classes and layers`,
      );
    }
  }
  const { name = "model", inputShape, classes, layers } = raw;
  if (typeof name !== "string") {
    throw new ModelSpecError(file, `"name" must be a string, got ${JSON.stringify(name)}`);
  }
  const positive = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;
  if (
    !Array.isArray(inputShape) || ![1, 3].includes(inputShape.length) ||
    !inputShape.every(positive)
  ) {
    throw new ModelSpecError(
      file,
      `"inputShape" must be [features] or [channels, height, width] of integers >= 1, got ${
        JSON.stringify(inputShape)
      }`,
    );
  }
  if (!positive(classes) || (classes as number) > 256) {
    throw new ModelSpecError(
      file,
      `"classes" must be an integer in [1, 256], got ${JSON.stringify(classes)}`,
    );
  }
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new ModelSpecError(file, `"layers" must be a non-empty list of layers`);
  }
  const config: ModelConfig = { name, inputShape: [...inputShape], layers: [] };
  let shape: number[] = [...inputShape];
  layers.forEach((entry, i) => {
    const { spec, rank } = checkLayer(file, i, entry);
    const kind = (entry as { type: string }).type;
    if (rank !== undefined && shape.length !== rank) {
      throw new ModelSpecError(
        file,
        `layer ${i} (${kind}) needs a [${rank === 1 ? "C" : "C, H, W"}] input, gets [${shape}]`,
      );
    }
    try {
      shape = buildLayer(spec, i).outputShape(shape);
    } catch (e) {
      throw new ModelSpecError(
        file,
        `layer ${i} (${kind}) gets [${shape}]: ${(e as Error).message}`,
      );
    }
    config.layers.push(spec);
  });
  if (shape.length !== 1 || shape[0] !== classes) {
    throw new ModelSpecError(
      file,
      `the last layer gives [${shape}] per sample, "classes" is ${classes}: end with a dense ` +
        `layer to ${classes} outputs`,
    );
  }
  return config;
}

/** The class count of a model: its output size. */
export function modelClasses(config: ModelConfig): number {
  let shape = [...config.inputShape];
  config.layers.forEach((spec, i) => shape = buildLayer(spec, i).outputShape(shape));
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Where two models differ, as a sentence, or undefined when they are the same architecture
 * (names aside): the input shape, the layer count, or the first layer that differs.
 */
export function modelDifference(a: ModelConfig, b: ModelConfig): string | undefined {
  if (a.inputShape.join() !== b.inputShape.join()) {
    return `input shape [${a.inputShape}] vs [${b.inputShape}]`;
  }
  const n = Math.min(a.layers.length, b.layers.length);
  for (let i = 0; i < n; i++) {
    const x = JSON.stringify(sorted(a.layers[i])), y = JSON.stringify(sorted(b.layers[i]));
    if (x !== y) return `layer ${i}: ${x} vs ${y}`;
  }
  if (a.layers.length !== b.layers.length) {
    return `${a.layers.length} layers vs ${b.layers.length}`;
  }
  return undefined;
}

/** A layer spec with its defaults filled in and its keys in one order, for comparison. */
function sorted(spec: LayerSpec): Record<string, unknown> {
  const defaults: Record<string, Record<string, unknown>> = {
    conv2d: { stride: 1, padding: 0 },
    batchnorm: { momentum: 0.1, eps: 1e-5 },
    maxpool: { stride: (spec as { kernel?: number }).kernel },
    avgpool: { stride: (spec as { kernel?: number }).kernel },
  };
  const s = { ...defaults[spec.type], ...spec } as Record<string, unknown>;
  return Object.fromEntries(Object.keys(s).sort().map((k) => [k, s[k]]));
}
