/**
 * The Deno-only part of the API: datasets and checkpoints read from and written to files.
 * Everything else is in mod.ts, which also runs in browsers (where these take bytes instead:
 * `checkpointBytes` and `checkpointFromBytes` there, `idxPair` in `./formats`).
 *
 * ```ts
 * import { Gpu, mlp, Sequential, train } from "../mod.ts";
 * import { loadFashionMnist, saveCheckpoint } from "./files.ts";
 * ```
 * @module
 */
export {
  EMBEDDED_FASHION_MNIST,
  fashionMnistDir,
  loadFashionMnist,
  readIdxPair,
  SYSTEM_FASHION_MNIST,
} from "./data/fashion_mnist_files.ts";
export { loadCifar10, readCifarFiles } from "./data/cifar10.ts";
export { DATASETS, loadData } from "./data/load.ts";
export type { DataOptions, DatasetName, LoadedData } from "./data/load.ts";
export { loadCheckpoint, saveCheckpoint } from "./train/checkpoint.ts";
export { channelStatistics, loadOwnData, OWN_DATA, OwnDataOptionError } from "./data/own_data.ts";
export type {
  Normalization,
  OwnData,
  OwnDataFiles,
  OwnDataName,
  OwnDataOptions,
} from "./data/own_data.ts";
export { readImageFolder } from "./data/image_folder.ts";
export type { ImageFolder } from "./data/image_folder.ts";
export type { CheckpointSource, ExpectedModel } from "./train/checkpoint.ts";
export type { DataSplits } from "./data/dataset.ts";
export { kernelCachePath, tunedGemm } from "./nn/gemm_cache.ts";
