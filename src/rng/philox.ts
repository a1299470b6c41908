/**
 * Philox4x32-10 on the CPU, word for word the generator of `shaders/philox.wgsl`, for host-side
 * randomness (data order, permutations) and as the reference the GPU is tested against.
 * @module
 */

const M0 = 0xD2511F53;
const M1 = 0xCD9E8D57;
const W0 = 0x9E3779B9;
const W1 = 0xBB67AE85;

/** Random-number domains: one seed drives several uses without correlation between them. */
export const RNG_DOMAIN = {
  fill: 0,
  init: 1,
  dropout: 2,
  perturbation: 3,
  directions: 4,
  data: 5,
  bootstrap: 6,
} as const;

/** High and low 32-bit words of a * b (exact: every partial product stays below 2^53). */
function mulhilo(a: number, b: number): [number, number] {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p01 = a0 * b1, p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const hi = (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
  return [hi, Math.imul(a, b) >>> 0];
}

/** Philox4x32 with 10 rounds: four 32-bit counter words and two key words to four words. */
export function philox4x32(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((v) => v >>> 0);
  let [k0, k1] = key.map((v) => v >>> 0);
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const [hi0, lo0] = mulhilo(M0, c0);
    const [hi1, lo1] = mulhilo(M1, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}

/** Splits a seed (an integer below 2^53) into the generator's two key words. */
export function seedKey(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be a non-negative integer below 2^53, got ${seed}`);
  }
  return [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}

/**
 * The four words of block `block` of (seed, stream, domain[, substream]), as the GPU's
 * `philox_block` / `philox_block_sub` compute them: counter (block, substream, stream, domain).
 */
export function philoxBlock(
  seed: number,
  stream: number,
  domain: number,
  block: number,
  substream = 0,
): [number, number, number, number] {
  return philox4x32([block, substream, stream, domain], seedKey(seed));
}

/** Uniform in (0, 1] from the top 24 bits of a word, exactly as `philox_unit`. */
export function unitFloat(bits: number): number {
  return ((bits >>> 8) + 1) * 2 ** -24;
}

/**
 * A reproducible stream of uniforms in (0, 1] for host-side use: value i equals GPU element i
 * of a uniform fill with the same seed, stream and domain.
 */
export class PhiloxStream {
  #index = 0;
  #block: number[] = [];

  /** The stream `stream` of `seed` in `domain`. */
  constructor(
    /** Seed, a non-negative integer below 2^53. */
    readonly seed: number,
    /** Sequence number under the seed. */
    readonly stream: number,
    /** Use of the numbers (RNG_DOMAIN). */
    readonly domain: number = RNG_DOMAIN.data,
  ) {
    seedKey(seed);
  }

  /** Next raw 32-bit word. */
  nextWord(): number {
    const lane = this.#index & 3;
    if (lane === 0) {
      this.#block = philoxBlock(this.seed, this.stream, this.domain, this.#index / 4);
    }
    this.#index++;
    return this.#block[lane];
  }

  /** Next uniform in (0, 1]. */
  next(): number {
    return unitFloat(this.nextWord());
  }

  /** Uniform integer in [0, n), from 53 random bits. */
  nextInt(n: number): number {
    const x = (this.nextWord() * 2 ** 21 + (this.nextWord() >>> 11)) * 2 ** -53;
    return Math.floor(x * n);
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Uint32Array {
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }
}
