/** Float64 reference for inverted dropout with the counter-based mask of the GPU kernel. */
import { philoxBlock, RNG_DOMAIN, unitFloat } from "../../src/rng/philox.ts";

/**
 * Keep flags: element i is kept iff unitFloat(word i % 4 of block i / 4 of (seed, stream =
 * step, substream = salt, domain = dropout)) > p, p rounded to float32 as the kernel sees it.
 */
export function dropoutMaskRef(
  n: number,
  p: number,
  seed: number,
  step: number,
  salt: number,
): Uint8Array {
  const threshold = Math.fround(p);
  const keep = new Uint8Array(n);
  let words: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 4 === 0) words = philoxBlock(seed, step, RNG_DOMAIN.dropout, i / 4, salt);
    keep[i] = unitFloat(words[i % 4]) > threshold ? 1 : 0;
  }
  return keep;
}

/** y = x * keep / (1 - p), in float64. */
export function dropoutRef(x: ArrayLike<number>, keep: Uint8Array, p: number): Float64Array {
  return Float64Array.from(x, (v, i) => (keep[i] ? v / (1 - p) : 0));
}
