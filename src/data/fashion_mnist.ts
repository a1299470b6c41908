/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf 2017; MIT licence): 28x28 greyscale images of
 * clothing in 10 classes, 60,000 for training and 10,000 for testing, in IDX gzip files. This
 * part takes bytes and runs anywhere; reading the files is in `fashion_mnist_files.ts`.
 * @module
 */
import { DataError, type Dataset, normalizeBytes } from "./dataset.ts";
import { checkLabels, maybeGunzip, parseIdx } from "./idx.ts";

/** File names of the train and test parts (images, labels), as published. */
export const FASHION_MNIST_FILES: {
  readonly train: readonly [string, string];
  readonly test: readonly [string, string];
} = {
  train: ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"],
  test: ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"],
};

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
 * @param classes Number of classes the labels must lie below (default 10).
 */
export async function idxPair(
  images: NamedBytes,
  labels: NamedBytes,
  name: string,
  classes?: number,
): Promise<Dataset> {
  classes ??= 10;
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
