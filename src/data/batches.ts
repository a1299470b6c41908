/**
 * Mini-batches: a seeded order per epoch, images gathered on the CPU and uploaded as one
 * tensor per batch (recorded like every other upload, so it never stalls the GPU).
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import { PhiloxStream, RNG_DOMAIN } from "../rng/philox.ts";
import { Tensor } from "../tensor.ts";
import { type Dataset, datasetSize, sampleLength } from "./dataset.ts";

/** One batch on the GPU: images [1, B, C, H, W] and labels [B]. */
export interface Batch {
  /** Images [1, B, C, H, W]. */
  images: Tensor;
  /** Labels [B]. */
  labels: Tensor<"u32">;
  /** B, the number of samples. */
  samples: number;
}

/** The order of epoch `epoch` (seeded permutation, or 0..n-1 when not shuffling). */
export function epochOrder(n: number, seed: number, epoch: number, shuffle = true): Uint32Array {
  if (!shuffle) return Uint32Array.from({ length: n }, (_, i) => i);
  return new PhiloxStream(seed, 100 + epoch, RNG_DOMAIN.data).permutation(n);
}

/** Gathers samples `indices` into host arrays. */
export function gather(
  d: Dataset,
  indices: ArrayLike<number>,
): { images: Float32Array; labels: Uint32Array } {
  const len = sampleLength(d);
  const images = new Float32Array(indices.length * len);
  const labels = new Uint32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    images.set(d.images.subarray(j * len, (j + 1) * len), i * len);
    labels[i] = d.labels[j];
  }
  return { images, labels };
}

/** Uploads samples `indices` as a batch. */
export function uploadBatch(gpu: Gpu, d: Dataset, indices: ArrayLike<number>): Batch {
  const { images, labels } = gather(d, indices);
  return {
    images: Tensor.from(gpu, images, [1, indices.length, ...d.shape]),
    labels: Tensor.from(gpu, labels),
    samples: indices.length,
  };
}

/** Batches of `batchSize` over one epoch (the last may be smaller unless `dropLast`). */
export function* batchIndices(
  order: Uint32Array,
  batchSize: number,
  dropLast = false,
): Generator<Uint32Array> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batch size must be >= 1, got ${batchSize}`);
  }
  for (let at = 0; at < order.length; at += batchSize) {
    const end = Math.min(order.length, at + batchSize);
    if (dropLast && end - at < batchSize) return;
    yield order.subarray(at, end);
  }
}

/** Number of batches per epoch. */
export function batchCount(d: Dataset, batchSize: number, dropLast = false): number {
  const n = datasetSize(d);
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}
