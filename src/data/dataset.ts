/**
 * Image classification data: float32 NCHW images and integer labels, held on the CPU. Batches
 * are gathered here and uploaded per step (a batch of 64 Fashion-MNIST images is 200 KB).
 * @module
 */
import { PhiloxStream, RNG_DOMAIN } from "../rng/philox.ts";

/** A labelled set of images. */
export interface Dataset {
  /** e.g. "fashion-mnist/train". */
  name: string;
  /** Per-sample shape [C, H, W]. */
  shape: number[];
  /** Number of classes; labels lie in [0, classes). */
  classes: number;
  /** samples x C x H x W values, normalised. */
  images: Float32Array;
  /** One label per sample. */
  labels: Uint8Array;
  /** Each sample's row in the user's own file it was read from (own data only). */
  rows?: Uint32Array;
}

/** Train, validation and test parts of one dataset. */
export interface DataSplits {
  /** Data to fit. */
  train: Dataset;
  /** Held out from training, to pick the best epoch. */
  validation: Dataset;
  /** The official test set. */
  test: Dataset;
}

/** Thrown for unusable data files; the message names the file and the problem. */
export class DataError extends Error {
  /** An error about `file`. */
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "DataError";
  }
}

/** Number of samples. */
export function datasetSize(d: Dataset): number {
  return d.labels.length;
}

/** Values per sample. */
export function sampleLength(d: Dataset): number {
  return d.shape.reduce((a, b) => a * b, 1);
}

/**
 * Bytes 0..255 to floats normalised per channel as the paper's code does:
 * ((b / 255) - mean) / std with mean = std = 0.5, i.e. into [-1, 1].
 */
export function normalizeBytes(bytes: Uint8Array, mean = 0.5, std = 0.5): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = (bytes[i] / 255 - mean) / std;
  return out;
}

/**
 * The samples at `indices`, in that order, as a new dataset.
 * @param name The new dataset's name (default `d.name`).
 */
export function select(d: Dataset, indices: ArrayLike<number>, name?: string): Dataset {
  name ??= d.name;
  const len = sampleLength(d);
  const images = new Float32Array(indices.length * len);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    images.set(d.images.subarray(j * len, (j + 1) * len), i * len);
    labels[i] = d.labels[j];
  }
  const rows = d.rows && Uint32Array.from(indices, (j) => d.rows![j]);
  return { name, shape: [...d.shape], classes: d.classes, images, labels, ...(rows && { rows }) };
}

/** The first `n` samples (all if n is larger). */
export function head(d: Dataset, n: number): Dataset {
  const size = Math.min(n, datasetSize(d));
  return select(d, Array.from({ length: size }, (_, i) => i), d.name);
}

/**
 * Which of `n` training samples a seeded hold-out of `validation` samples keeps for training
 * and which it holds out, as indices into the n, in the order {@link holdOut} selects them;
 * `name` names the training set in errors.
 */
export function holdOutIndices(
  n: number,
  validation: number,
  seed: number,
  name = "the training set",
): { train: Uint32Array; validation: Uint32Array } {
  if (n < 2) {
    throw new RangeError(
      `${name} has ${n} sample${n === 1 ? "" : "s"}; holding out validation needs at least 2`,
    );
  }
  if (!Number.isInteger(validation) || validation < 1 || validation >= n) {
    throw new RangeError(
      `validation size must be in [1, ${n - 1}] (${name} has ${n} samples), got ${validation}`,
    );
  }
  const order = new PhiloxStream(seed, 1, RNG_DOMAIN.data).permutation(n);
  return { validation: order.subarray(0, validation), train: order.subarray(validation) };
}

/** Splits off a seeded random `validation` samples from `train`. */
export function holdOut(
  train: Dataset,
  validation: number,
  seed: number,
): { train: Dataset; validation: Dataset } {
  const indices = holdOutIndices(datasetSize(train), validation, seed, train.name);
  return {
    validation: select(train, indices.validation, `${train.name}:validation`),
    train: select(train, indices.train, `${train.name}:train`),
  };
}

/** Images average-pooled by `factor` in both spatial dimensions (e.g. 28x28 to 14x14). */
export function downsample(d: Dataset, factor: number): Dataset {
  if (factor === 1) return d;
  const [c, h, w] = d.shape;
  if (d.shape.length !== 3 || h % factor !== 0 || w % factor !== 0) {
    throw new RangeError(`cannot pool [${d.shape}] images by ${factor}`);
  }
  const oh = h / factor, ow = w / factor, n = datasetSize(d);
  const images = new Float32Array(n * c * oh * ow);
  const scale = 1 / (factor * factor);
  for (let s = 0; s < n * c; s++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) {
          for (let dx = 0; dx < factor; dx++) {
            sum += d.images[s * h * w + (y * factor + dy) * w + x * factor + dx];
          }
        }
        images[s * oh * ow + y * ow + x] = sum * scale;
      }
    }
  }
  return { ...d, name: `${d.name}:pool${factor}`, shape: [c, oh, ow], images };
}
