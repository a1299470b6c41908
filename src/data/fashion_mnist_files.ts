/**
 * Fashion-MNIST from files: an explicit directory, else Debian's `dataset-fashion-mnist`
 * package, else the subset shipped in `data/fashion-mnist/` (so the default run needs no
 * download).
 * @module
 */
import { fileURLToPath } from "node:url";
import { DataError, type Dataset } from "./dataset.ts";
import { FASHION_MNIST_FILES as FILES, idxPair } from "./fashion_mnist.ts";
import { readEitherForm } from "./idx.ts";

/** Where Debian's dataset-fashion-mnist package installs the full set. */
export const SYSTEM_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";
/** The subset shipped with the project (a path, whatever characters the checkout's has). */
export const EMBEDDED_FASHION_MNIST: string = fileURLToPath(
  new URL("../../data/fashion-mnist", import.meta.url),
);

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The directory to read: `dir` if given, else the system copy if installed, else the subset. */
export function fashionMnistDir(dir?: string): string {
  if (dir) {
    if (!exists(dir)) throw new DataError(dir, "data directory not found");
    return dir;
  }
  return exists(`${SYSTEM_FASHION_MNIST}/${FILES.train[0]}`)
    ? SYSTEM_FASHION_MNIST
    : EMBEDDED_FASHION_MNIST;
}

/**
 * Reads one part (images and labels) from IDX files, gzipped or not: a path ending in .gz is
 * also found gunzipped (without the suffix), and the other way round.
 */
export async function readIdxPair(
  imagesPath: string,
  labelsPath: string,
  name: string,
  classes = 10,
): Promise<Dataset> {
  return await idxPair(
    await readEitherForm(imagesPath),
    await readEitherForm(labelsPath),
    name,
    classes,
  );
}

/**
 * Loads the train and test parts from `dir` if given; otherwise from the full set of Debian's
 * dataset-fashion-mnist package ({@link SYSTEM_FASHION_MNIST}) when it is installed, else from
 * the subset shipped with the project ({@link EMBEDDED_FASHION_MNIST}). `dir` in the result
 * says which was read.
 */
export async function loadFashionMnist(
  dir?: string,
): Promise<{ train: Dataset; test: Dataset; dir: string }> {
  const root = fashionMnistDir(dir);
  const part = (p: keyof typeof FILES) =>
    readIdxPair(`${root}/${FILES[p][0]}`, `${root}/${FILES[p][1]}`, `fashion-mnist/${p}`);
  return { train: await part("train"), test: await part("test"), dir: root };
}
