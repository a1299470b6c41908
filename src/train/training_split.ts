/**
 * The training split a checkpoint records: which dataset, which seeded hold-out set aside the
 * validation samples, and how many samples each part had. The split belongs to the model, so
 * analyses reuse it (the samples the model was fitted on stay the training samples) whatever
 * seed they draw their own randomness from.
 * @module
 */
import { datasetSize, type DataSplits, holdOutIndices } from "../data/dataset.ts";
import type { Normalization } from "../data/own_data.ts";
import { SafetensorsError } from "./safetensors.ts";

/** The parts of a split, by name. */
export const SPLITS = ["train", "validation", "test"] as const;
/** A part of a split: fitted on, held out for validation, or the test set. */
export type SplitName = typeof SPLITS[number];

/** How a training run split its data (metadata key "split" of a checkpoint). */
export interface TrainingSplit {
  /** The dataset's name, e.g. "fashion-mnist". */
  data: string;
  /** Seed of the hold-out (and of generated data). */
  seed: number;
  /** Only the first trainLimit training samples were split, when set. */
  trainLimit?: number;
  /** Samples fitted on. */
  train: number;
  /** Samples held out for validation. */
  validation: number;
  /** Samples of the test set. */
  test: number;
  /** Own data: the seeded fraction of its samples set aside as the test set. */
  testFraction?: number;
  /** Own data: the per-channel statistics its samples were normalised with. */
  normalization?: Normalization;
}

/** Metadata key of the split record. */
export const SPLIT_KEY = "split";

/**
 * The split record of `splits`, loaded from `data` with this seed and limit (recorded only
 * where it cut the training set short).
 */
export function trainingSplit(
  data: string,
  seed: number,
  splits: DataSplits & { normalization?: Normalization },
  trainLimit?: number,
  testFraction?: number,
): TrainingSplit {
  const train = datasetSize(splits.train), validation = datasetSize(splits.validation);
  const limited = trainLimit !== undefined && trainLimit <= train + validation;
  return {
    data,
    seed,
    ...(limited ? { trainLimit } : {}),
    train,
    validation,
    test: datasetSize(splits.test),
    ...(testFraction !== undefined ? { testFraction } : {}),
    ...(splits.normalization ? { normalization: splits.normalization } : {}),
  };
}

/** The checkpoint metadata that records `split`. */
export function splitMetadata(split: TrainingSplit): Record<string, string> {
  return { [SPLIT_KEY]: JSON.stringify(split) };
}

const numbers = (v: unknown) => Array.isArray(v) && v.every((x) => Number.isFinite(x));
const statistics = (n: Normalization) =>
  typeof n === "object" && n !== null && numbers(n.mean) && numbers(n.std) &&
  n.mean.length === n.std.length && n.std.every((s) => s > 0);
const count = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min;

/**
 * The split recorded in checkpoint metadata `info`, or undefined for checkpoints written before
 * splits were recorded; a damaged record is an error naming `file`.
 */
export function readSplit(info: Record<string, string>, file: string): TrainingSplit | undefined {
  const text = info[SPLIT_KEY];
  if (text === undefined) return undefined;
  let r: Partial<TrainingSplit> | null = null;
  try {
    r = JSON.parse(text);
  } catch { /* reported below */ }
  const ok = r !== null && typeof r === "object" && typeof r.data === "string" &&
    count(r.seed, 0) && count(r.train, 1) && count(r.validation, 1) && count(r.test, 1) &&
    (r.trainLimit === undefined || count(r.trainLimit, 1)) &&
    (r.testFraction === undefined || (r.testFraction > 0 && r.testFraction < 1)) &&
    (r.normalization === undefined || statistics(r.normalization));
  if (!ok) {
    throw new SafetensorsError(
      file,
      `metadata "${SPLIT_KEY}" is not a training split record (data, seed, train, validation, ` +
        `test sizes): ${JSON.stringify(text.slice(0, 80))}; re-save the checkpoint with train`,
    );
  }
  return r as TrainingSplit;
}

/**
 * Where the samples of `part` lie in the dataset's files: indices into the training file for
 * "train" and "validation" (as the seeded hold-out picked them, in the order it selects them),
 * into the test file for "test".
 */
export function sourceIndices(split: TrainingSplit, part: SplitName): Uint32Array {
  if (part === "test") return Uint32Array.from({ length: split.test }, (_, i) => i);
  return holdOutIndices(split.train + split.validation, split.validation, split.seed)[part];
}
