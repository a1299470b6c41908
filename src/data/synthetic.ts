/**
 * A synthetic image dataset for fast tests: each class is a fixed random prototype image and
 * samples are prototypes plus Gaussian noise, so small models learn it in a few steps.
 * @module
 */
import { PhiloxStream, RNG_DOMAIN } from "../rng/philox.ts";
import type { Dataset } from "./dataset.ts";

/** Options of {@link synthetic}. */
export interface SyntheticOptions {
  /** Number of samples. */
  samples: number;
  /** Per-sample shape [C, H, W] (default [1, 8, 8]). */
  shape?: number[];
  /** Number of classes (default 10). */
  classes?: number;
  /** Standard deviation of the noise around each prototype (default 0.5). */
  noise?: number;
  /** Seed of prototypes and samples (default 0). */
  seed?: number;
  /** Which draw of the same distribution (default 0; e.g. 0 train, 1 test). */
  part?: number;
}

function gaussian(rng: PhiloxStream): number {
  return Math.sqrt(-2 * Math.log(rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/** A deterministic synthetic dataset. */
export function synthetic(
  { samples, shape = [1, 8, 8], classes = 10, noise = 0.5, seed = 0, part = 0 }: SyntheticOptions,
): Dataset {
  const len = shape.reduce((a, b) => a * b, 1);
  const protoRng = new PhiloxStream(seed, 1000, RNG_DOMAIN.data);
  const prototypes = Float32Array.from({ length: classes * len }, () => gaussian(protoRng));
  const rng = new PhiloxStream(seed, 1001 + part, RNG_DOMAIN.data);
  const images = new Float32Array(samples * len);
  const labels = new Uint8Array(samples);
  for (let i = 0; i < samples; i++) {
    const c = rng.nextInt(classes);
    labels[i] = c;
    for (let j = 0; j < len; j++) {
      images[i * len + j] = prototypes[c * len + j] + noise * gaussian(rng);
    }
  }
  return { name: `synthetic/${part}`, shape: [...shape], classes, images, labels };
}
