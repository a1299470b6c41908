/**
 * Picks a dataset by name and splits it into train, validation and test parts.
 * @module
 */
import { loadCifar10 } from "./cifar10.ts";
import { type DataSplits, head, holdOut } from "./dataset.ts";
import { loadFashionMnist } from "./fashion_mnist_files.ts";
import type { Normalization } from "./own_data.ts";
import { synthetic } from "./synthetic.ts";

/** Datasets the tool reads. */
export const DATASETS = ["fashion-mnist", "cifar10", "synthetic"] as const;
/** Name of a dataset. */
export type DatasetName = typeof DATASETS[number];

/** Which data to load and how to split it. */
export interface DataOptions {
  /** Which dataset (default fashion-mnist). */
  data?: DatasetName;
  /** Directory of the files (required for cifar10; fashion-mnist finds its own). */
  dataDir?: string;
  /** Samples held out of the training set for validation (default: 1/12 of it). */
  validation?: number;
  /** Use only the first N training samples (before the hold-out). */
  trainLimit?: number;
  /** Seed of the hold-out (default 0). */
  seed?: number;
}

/** The splits and where they came from. */
export interface LoadedData extends DataSplits {
  /** Directory read, or "generated". */
  source: string;
  /** Per-channel statistics applied to own data (--normalize), if any. */
  normalization?: Normalization;
}

/** Loads and splits a dataset. */
export async function loadData(options: DataOptions = {}): Promise<LoadedData> {
  const { data = "fashion-mnist", dataDir, trainLimit, seed = 0 } = options;
  let parts: { train: DataSplits["train"]; test: DataSplits["test"]; dir: string };
  switch (data) {
    case "fashion-mnist":
      parts = await loadFashionMnist(dataDir);
      break;
    case "cifar10":
      if (!dataDir) {
        throw new RangeError(
          "--data cifar10 needs --data-dir PATH (the cifar-10-batches-bin folder)",
        );
      }
      parts = await loadCifar10(dataDir);
      break;
    case "synthetic":
      parts = {
        train: synthetic({ samples: 2400, seed, part: 0 }),
        test: synthetic({ samples: 600, seed, part: 1 }),
        dir: "generated",
      };
      break;
    default:
      throw new RangeError(`unknown dataset "${data}"; use one of ${DATASETS.join(", ")}`);
  }
  const train = trainLimit ? head(parts.train, trainLimit) : parts.train;
  const validation = options.validation ?? Math.max(1, Math.round(train.labels.length / 12));
  const split = holdOut(train, validation, seed);
  return { train: split.train, validation: split.validation, test: parts.test, source: parts.dir };
}
