/**
 * The file formats the tool reads and writes, as bytes and text (no file access, so they run in
 * browsers too): NumPy .npy arrays, CSV tables, Fashion-MNIST's IDX files and the class names of
 * the built-in datasets, and model specs (the JSON of `--model-spec`). Reading datasets and
 * checkpoints from files is in `./files`; the research API is mod.ts.
 *
 * ```ts
 * import { encodeNpy, parseNpy } from "./formats.ts";
 * const { shape, data } = parseNpy("x.npy", encodeNpy([2, 3], [1, 2, 3, 4, 5, 6]));
 * ```
 * @module
 */
export { encodeNpy, parseNpy } from "./data/npy.ts";
export type { NpyArray } from "./data/npy.ts";
export { parseCsvTable } from "./data/csv_table.ts";
export type { CsvTable } from "./data/csv_table.ts";
export { FASHION_MNIST_CLASSES, FASHION_MNIST_FILES, idxPair } from "./data/fashion_mnist.ts";
export { CIFAR10_CLASSES } from "./data/cifar10.ts";
export { modelDifference, ModelSpecError, parseModelSpec } from "./nn/model_spec.ts";
