/**
 * A user's own data: NumPy arrays (--data npy), a CSV table (--data csv) or a folder of images
 * (--data images), with its test set from separate files or a seeded fraction, a seeded
 * validation hold-out, and an optional per-channel normalisation (channel: the first axis of a
 * sample; each feature of tabular data). Every sample keeps its row in the file it came from.
 * @module
 */
import { parseCsvTable } from "./csv_table.ts";
import { DataError, type Dataset, type DataSplits, head, holdOut, select } from "./dataset.ts";
import { readBytes } from "./idx.ts";
import { readImageFolder } from "./image_folder.ts";
import { parseNpy } from "./npy.ts";
import { PhiloxStream, RNG_DOMAIN } from "../rng/philox.ts";

/** Kinds of own data. */
export const OWN_DATA = ["npy", "csv", "images"] as const;
/** A kind of own data. */
export type OwnDataName = typeof OWN_DATA[number];

/** Where a user's data lies. */
export interface OwnDataFiles {
  /** npy: samples [N, ...]. */
  x?: string;
  /** npy: labels [N]. */
  y?: string;
  /** npy: test samples. */
  testX?: string;
  /** npy: test labels. */
  testY?: string;
  /** csv: the table. */
  file?: string;
  /** csv: the label column's name. */
  label?: string;
  /** csv: a test table. */
  testFile?: string;
  /** images: a ROOT/CLASS/IMAGE folder. */
  dir?: string;
  /** images: a test folder. */
  testDir?: string;
}

/** Per-channel statistics the samples are normalised with: (x - mean) / std. */
export interface Normalization {
  /** Per-channel means. */
  mean: number[];
  /** Per-channel standard deviations. */
  std: number[];
}

/** How to read and split own data. */
export interface OwnDataOptions {
  /** Which kind of files. */
  data: OwnDataName;
  /** The files. */
  files: OwnDataFiles;
  /** Seed of the test fraction and of the validation hold-out. */
  seed: number;
  /** Fraction of the samples set aside as the test set (when there are no test files). */
  testFraction?: number;
  /** Validation samples held out of the training part (default 1/12 of it; 0: none). */
  validation?: number;
  /** Only the first N samples of the training part (before the hold-out). */
  trainLimit?: number;
  /** "mean-std": statistics of the training samples; or explicit statistics. */
  normalize?: "none" | "mean-std" | Normalization;
}

/** Own data split into its parts. */
export interface OwnData extends DataSplits {
  /** The files read, for messages. */
  source: string;
  /** The statistics applied, if any. */
  normalization?: Normalization;
}

/** Thrown for options that cannot describe own data; the message names the option. */
export class OwnDataOptionError extends Error {
  /** A problem with the options. */
  constructor(message: string) {
    super(message);
    this.name = "OwnDataOptionError";
  }
}

/** Samples read from a source, labels as read (checked later). */
interface Raw {
  name: string;
  shape: number[];
  values: Float32Array;
  labels: ArrayLike<number>;
  /** Where labels come from, for errors. */
  labelFile: string;
  classNames?: string[];
}

function need(value: string | undefined, option: string, data: string): string {
  if (value === undefined) throw new OwnDataOptionError(`--data ${data} needs ${option}`);
  return value;
}

/** Per-sample shape of an array [N, ...]: [F], [1, H, W] or [C, H, W]. */
function sampleShape(file: string, shape: number[]): number[] {
  const rest = shape.slice(1);
  if (rest.length === 0 || rest.length > 3) {
    throw new DataError(
      file,
      `has shape (${shape.join(", ")}); samples must be [N, features], [N, H, W] or [N, C, H, W]`,
    );
  }
  return rest.length === 2 ? [1, ...rest] : rest;
}

async function readNpyPair(x: string, y: string): Promise<Raw> {
  const xs = parseNpy(x, await readBytes(x));
  const ys = parseNpy(y, await readBytes(y));
  const shape = sampleShape(x, xs.shape);
  if (ys.shape.length !== 1) {
    throw new DataError(
      y,
      `has shape (${ys.shape.join(", ")}); labels must be one value per sample [N]`,
    );
  }
  if (ys.shape[0] !== xs.shape[0]) {
    throw new DataError(y, `has ${ys.shape[0]} labels, ${x} has ${xs.shape[0]} samples`);
  }
  // Bytes are pixels: scaled into [0, 1] as image folders are.
  const scale = xs.dtype === "uint8" ? 1 / 255 : 1;
  return {
    name: x,
    shape,
    values: Float32Array.from(xs.data, (v) => v * scale),
    labels: ys.data,
    labelFile: y,
  };
}

async function readCsv(file: string, label: string): Promise<Raw> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(await readBytes(file));
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(file, "is not UTF-8 text");
  }
  const t = parseCsvTable(file, text, label);
  return {
    name: file,
    shape: [t.features.length],
    values: Float32Array.from(t.values),
    labels: t.labels,
    labelFile: file,
  };
}

async function readImages(dir: string, known?: string[]): Promise<Raw> {
  const f = await readImageFolder(dir, known);
  return {
    name: dir,
    shape: f.shape,
    values: f.values,
    labels: f.labels,
    labelFile: dir,
    classNames: f.classes,
  };
}

async function readPart(
  o: OwnDataOptions,
  test: boolean,
  classNames?: string[],
): Promise<Raw | undefined> {
  const f = o.files;
  switch (o.data) {
    case "npy": {
      if (!test) {
        return await readNpyPair(need(f.x, "--x X.npy", "npy"), need(f.y, "--y Y.npy", "npy"));
      }
      if (f.testX === undefined && f.testY === undefined) return undefined;
      return await readNpyPair(
        need(f.testX, "--test-x with --test-y", "npy"),
        need(f.testY, "--test-y with --test-x", "npy"),
      );
    }
    case "csv": {
      const label = need(f.label, "--label COLUMN (the label column's name)", "csv");
      if (!test) return await readCsv(need(f.file, "--file TABLE.csv", "csv"), label);
      return f.testFile === undefined ? undefined : await readCsv(f.testFile, label);
    }
    case "images":
      if (!test) {
        return await readImages(need(f.dir, "--dir ROOT (one sub-folder per class)", "images"));
      }
      return f.testDir === undefined ? undefined : await readImages(f.testDir, classNames);
  }
}

/** Labels as bytes; each must be an integer in [0, 255]. */
function labelBytes(raw: Raw): Uint8Array {
  const out = new Uint8Array(raw.labels.length);
  for (let i = 0; i < raw.labels.length; i++) {
    const v = raw.labels[i];
    if (!Number.isInteger(v) || v < 0 || v > 255) {
      throw new DataError(
        raw.labelFile,
        `label ${v} of sample ${i} is not a class number (an integer in [0, 255])`,
      );
    }
    out[i] = v;
  }
  return out;
}

/** A part's samples, named like the built-in datasets' ("npy/train"). */
function dataset(raw: Raw, name: string, classes: number): Dataset {
  return {
    name,
    shape: raw.shape,
    classes,
    images: raw.values,
    labels: labelBytes(raw),
    rows: Uint32Array.from({ length: raw.labels.length }, (_, i) => i),
  };
}

/** Per-channel mean and standard deviation of `d` (channel: a sample's first axis). */
export function channelStatistics(d: Dataset): Normalization {
  const channels = d.shape[0], per = d.shape.slice(1).reduce((a, b) => a * b, 1);
  const n = d.labels.length;
  const sum = new Float64Array(channels), squares = new Float64Array(channels);
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < channels; c++) {
      const at = (s * channels + c) * per;
      for (let i = 0; i < per; i++) {
        const v = d.images[at + i];
        sum[c] += v;
        squares[c] += v * v;
      }
    }
  }
  const count = Math.max(1, n * per);
  const mean = Array.from(sum, (v) => v / count);
  // A constant channel keeps its scale: dividing by 0 would make it NaN.
  const std = Array.from(squares, (v, c) => Math.sqrt(Math.max(0, v / count - mean[c] ** 2)) || 1);
  return { mean, std };
}

function normalized(d: Dataset, { mean, std }: Normalization): Dataset {
  const channels = d.shape[0], per = d.shape.slice(1).reduce((a, b) => a * b, 1);
  const images = new Float32Array(d.images.length);
  for (let i = 0; i < images.length; i++) {
    const c = Math.floor(i / per) % channels;
    images[i] = (d.images[i] - mean[c]) / std[c];
  }
  return { ...d, images };
}

/** Explicit statistics broadcast to `channels` (one value serves every channel). */
function explicit(n: Normalization, channels: number): Normalization {
  for (const name of ["mean", "std"] as const) {
    const v = n[name];
    if (v.length !== 1 && v.length !== channels) {
      throw new OwnDataOptionError(
        `--${name} has ${v.length} values; the samples have ${channels} channels (give 1 or ${channels})`,
      );
    }
  }
  if (n.std.some((s) => !(s > 0))) throw new OwnDataOptionError(`--std values must be > 0`);
  const widen = (v: number[]) => v.length === 1 ? Array(channels).fill(v[0]) : [...v];
  return { mean: widen(n.mean), std: widen(n.std) };
}

/** Reads a user's data and splits it into train, validation and test parts. */
export async function loadOwnData(o: OwnDataOptions): Promise<OwnData> {
  const raw = await readPart(o, false) as Raw;
  const rawTest = await readPart(o, true, raw.classNames);
  if (rawTest && o.testFraction) {
    throw new OwnDataOptionError("--test-fraction and test files are alternatives; give one");
  }
  if (rawTest && rawTest.shape.join() !== raw.shape.join()) {
    throw new DataError(
      rawTest.name,
      `samples are [${rawTest.shape}], the training samples of ${raw.name} are [${raw.shape}]`,
    );
  }
  const maxLabel = (r?: Raw) => r ? labelBytes(r).reduce((a, b) => Math.max(a, b), 0) : 0;
  const classes = raw.classNames?.length ?? Math.max(maxLabel(raw), maxLabel(rawTest)) + 1;
  const all = dataset(raw, `${o.data}/train`, classes);
  let train = all,
    test = rawTest
      ? dataset(rawTest, `${o.data}/test`, classes)
      : select(all, [], `${o.data}/test`);
  const n = all.labels.length;
  if (!rawTest && o.testFraction) {
    const count = Math.round(o.testFraction * n);
    if (count < 1 || count >= n) {
      throw new OwnDataOptionError(
        `--test-fraction ${o.testFraction} of ${n} samples sets aside ${count}; it must leave ` +
          `at least 1 test and 1 training sample`,
      );
    }
    const order = new PhiloxStream(o.seed, 2, RNG_DOMAIN.data).permutation(n);
    // Kept in file order, so a sample's part never changes how the rest are numbered.
    test = select(all, order.subarray(0, count).sort(), `${o.data}/test`);
    train = select(all, order.subarray(count).sort(), `${o.data}/train`);
  }
  if (o.trainLimit) train = head(train, o.trainLimit);
  const size = train.labels.length;
  const validation = o.validation ?? Math.max(1, Math.round(size / 12));
  const parts = validation === 0
    ? { train, validation: select(train, [], `${train.name}:validation`) }
    : holdOut(train, validation, o.seed);
  let split: DataSplits = { ...parts, test };
  let normalization: Normalization | undefined;
  if (o.normalize && o.normalize !== "none") {
    normalization = o.normalize === "mean-std"
      ? channelStatistics(split.train)
      : explicit(o.normalize, raw.shape[0]);
    split = {
      train: normalized(split.train, normalization),
      validation: normalized(split.validation, normalization),
      test: normalized(split.test, normalization),
    };
  }
  const source = rawTest ? `${raw.name} and ${rawTest.name}` : raw.name;
  return { ...split, source, ...(normalization && { normalization }) };
}

/**
 * `data` with every part counting `classes` classes: own data counts its labels' largest
 * value + 1, which a sample may fall short of (no sample of the last class), while the
 * model's output count is the class count. Fewer classes than labels are refused.
 */
export function withClasses<T extends DataSplits>(data: T, classes: number): T {
  const parts = ["train", "validation", "test"] as const;
  for (const p of parts) {
    if (data[p].classes > classes) {
      throw new RangeError(
        `${data[p].name} has labels up to ${data[p].classes - 1}, the model has ${classes} classes`,
      );
    }
  }
  const out = { ...data };
  for (const p of parts) out[p] = { ...data[p], classes };
  return out;
}
