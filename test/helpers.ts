/**
 * Shared test utilities: one device per test process, float comparison with stated
 * tolerances, and reproducible test data.
 */
import { Gpu } from "../src/gpu/gpu.ts";
import { PhiloxStream } from "../src/rng/philox.ts";

let shared: Promise<Gpu> | null = null;

/** The device all tests of a process share. */
export function testGpu(): Promise<Gpu> {
  return shared ??= Gpu.create();
}

let folded: Promise<Gpu> | null = null;

/**
 * A device whose engine caps workgroups per dimension at 8, so dispatches of more than 8
 * workgroups fold into two dimensions (as past 65,535 on a real device), cheaply.
 */
export function foldedGpu(): Promise<Gpu> {
  return folded ??= Gpu.create({ limits: { maxComputeWorkgroupsPerDimension: 8 } });
}

/**
 * A test that uses the GPU. WebGPU keeps device-level resources and promises alive across
 * tests, which Deno's sanitizers would report as leaks, so they are off here.
 */
export function gpuTest(name: string, fn: (gpu: Gpu) => Promise<void> | void): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => await fn(await testGpu()),
  });
}

/** Per-element bound: either a number, or a function of the index. */
export type Bound = number | ((i: number) => number);

/** Where a comparison came closest to its bound: that element's |error| and bound. */
export interface Closeness {
  error: number;
  bound: number;
  index: number;
}

/**
 * Asserts |actual[i] - expected[i]| <= atol + rtol * |expected[i]| (or a per-element bound),
 * reporting the worst element when it fails; returns the element closest to its bound.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { atol?: number; rtol?: number; bound?: (i: number) => number },
  what = "values",
): Closeness {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  const atol = tol.atol ?? 0, rtol = tol.rtol ?? 0;
  let worst = -1, worstExcess = 0, failures = 0;
  const closest: Closeness = { error: 0, bound: 0, index: -1 };
  let closestRatio = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    const bound = tol.bound ? tol.bound(i) : atol + rtol * Math.abs(e);
    const err = Math.abs(a - e);
    const ratio = err / Math.max(bound, 1e-300);
    if (ratio > closestRatio) {
      closestRatio = ratio;
      Object.assign(closest, { error: err, bound, index: i });
    }
    if (!(err <= bound)) {
      failures++;
      const excess = Number.isFinite(err) ? err / Math.max(bound, 1e-300) : Infinity;
      if (worst < 0 || excess > worstExcess) [worst, worstExcess] = [i, excess];
    }
  }
  if (failures > 0) {
    const i = worst;
    const bound = tol.bound ? tol.bound(i) : atol + rtol * Math.abs(expected[i]);
    throw new Error(
      `${what}: ${failures} of ${actual.length} elements out of tolerance; worst at [${i}]: ` +
        `got ${actual[i]}, expected ${expected[i]}, |error| ${
          Math.abs(actual[i] - expected[i])
        } > bound ${bound}`,
    );
  }
  return closest;
}

/** Asserts two arrays are bit-for-bit equal. */
export function assertBitwiseEqual(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what = "values",
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      throw new Error(`${what}: differ at [${i}]: ${actual[i]} vs ${expected[i]}`);
    }
  }
}

/** Reproducible uniform test data in [low, high), rounded to float32. */
export function randomArray(n: number, seed: number, low = -1, high = 1): Float32Array {
  const rng = new PhiloxStream(seed, 7, 99);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = low + (high - low) * (1 - rng.next());
  return out;
}

/** The awkward lengths every kernel is tested on (past lavapipe's 65,535-iteration cap too). */
export const AWKWARD_SIZES = [1, 7, 1000, 65_537, 1_000_003];

/** Unit roundoff of float32. */
export const EPS32 = 2 ** -24;

/**
 * Per-element bound of a float32 sum of `depth` terms in any order: within (depth + 1) EPS32
 * sum |terms| of the exact sum (one more for the final rounding); `scale` holds each output's
 * sum |terms|.
 */
export const sumBound = (depth: number, scale: ArrayLike<number>) => (i: number): number =>
  (depth + 2) * EPS32 * scale[i] + 1e-30;
