/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf 2017; MIT licence): 28x28 greyscale images of
 * clothing in 10 classes, 60,000 for training and 10,000 for testing, in IDX gzip files.
 * Looked for in an explicit directory, else Debian's `dataset-fashion-mnist` package, else the
 * subset shipped in `data/fashion-mnist/` (so the default run needs no download).
 * @module
 */
import { DataError, type Dataset, normalizeBytes } from "./dataset.ts";
import { checkLabels, maybeGunzip, parseIdx, readEitherForm } from "./idx.ts";

/** Where Debian's dataset-fashion-mnist package installs the full set. */
export const SYSTEM_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";
/** The subset shipped with the project. */
export const EMBEDDED_FASHION_MNIST: string =
  new URL("../../data/fashion-mnist", import.meta.url).pathname;

const FILES = {
  train: ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"],
  test: ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"],
} as const;

/** Class names, by label. */
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

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

/** A named file's bytes (gzipped when the name ends in .gz). */
export interface NamedBytes {
  /** The file's name (or path), for errors and for the .gz test. */
  name: string;
  /** Its contents. */
  bytes: Uint8Array;
}

/**
 * One part from IDX images and labels already in memory (e.g. fetched by a browser); the
 * names identify the files in errors.
 */
export async function idxPair(
  images: NamedBytes,
  labels: NamedBytes,
  name: string,
  classes = 10,
): Promise<Dataset> {
  const img = parseIdx(images.name, await maybeGunzip(images.name, images.bytes), 3);
  const lab = parseIdx(labels.name, await maybeGunzip(labels.name, labels.bytes), 1);
  const [count, h, w] = img.sizes;
  if (count === 0) throw new DataError(images.name, "holds no images (its header declares 0)");
  if (lab.sizes[0] !== count) {
    throw new DataError(
      images.name,
      `has ${count} images but ${labels.name} has ${lab.sizes[0]} labels`,
    );
  }
  checkLabels(labels.name, lab.data, classes);
  return {
    name,
    shape: [1, h, w],
    classes,
    images: normalizeBytes(img.data),
    labels: lab.data.slice(),
  };
}

/** File names of the train and test parts (images, labels), as published. */
export const FASHION_MNIST_FILES: {
  readonly train: readonly [string, string];
  readonly test: readonly [string, string];
} = FILES;

/** Loads the train and test parts. */
export async function loadFashionMnist(
  dir?: string,
): Promise<{ train: Dataset; test: Dataset; dir: string }> {
  const root = fashionMnistDir(dir);
  const part = (p: keyof typeof FILES) =>
    readIdxPair(`${root}/${FILES[p][0]}`, `${root}/${FILES[p][1]}`, `fashion-mnist/${p}`);
  return { train: await part("train"), test: await part("test"), dir: root };
}
