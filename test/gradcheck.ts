/**
 * Central finite-difference checks of backward passes.
 *
 * Two levels: `checkGradient64` differentiates a float64 reference function with a small step
 * (tight tolerance); `checkGradientGpu` spot-checks GPU gradients against differences of the
 * GPU forward pass itself, projected on a random direction so one scalar covers every output
 * (looser tolerance, float32 arithmetic).
 */
import { PhiloxStream } from "../src/rng/philox.ts";

/** Checks grad ≈ (f(x + h e_i) - f(x - h e_i)) / 2h for every i (or `coords`). */
export function checkGradient64(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  grad: ArrayLike<number>,
  { h = 1e-6, rtol = 1e-6, atol = 1e-8, coords, what = "gradient" }: {
    h?: number;
    rtol?: number;
    atol?: number;
    coords?: number[];
    what?: string;
  } = {},
): void {
  const base = Float64Array.from(x);
  for (const i of coords ?? base.keys()) {
    const v = base[i];
    base[i] = v + h;
    const up = f(base);
    base[i] = v - h;
    const down = f(base);
    base[i] = v;
    const fd = (up - down) / (2 * h);
    if (!(Math.abs(fd - grad[i]) <= atol + rtol * Math.abs(fd))) {
      throw new Error(`${what}[${i}]: backward ${grad[i]}, finite difference ${fd}`);
    }
  }
}

/**
 * Spot-checks a GPU gradient: for each chosen coordinate i, (f(x + h e_i) - f(x - h e_i)) / 2h
 * with f evaluated on the GPU in float32. `f` receives the perturbed input as float32.
 */
export async function checkGradientGpu(
  f: (x: Float32Array) => Promise<number>,
  x: Float32Array,
  grad: ArrayLike<number>,
  { h = 1e-2, rtol = 2e-2, atol = 1e-3, count = 8, seed = 1, what = "gradient" }: {
    h?: number;
    rtol?: number;
    atol?: number;
    count?: number;
    seed?: number;
    what?: string;
  } = {},
): Promise<void> {
  const rng = new PhiloxStream(seed, 11, 98);
  const coords = Array.from({ length: Math.min(count, x.length) }, () => rng.nextInt(x.length));
  for (const i of coords) {
    const probe = Float32Array.from(x);
    probe[i] = x[i] + h;
    const up = await f(probe);
    probe[i] = x[i] - h;
    const down = await f(probe);
    const fd = (up - down) / (2 * h);
    if (!(Math.abs(fd - grad[i]) <= atol + rtol * Math.abs(fd))) {
      throw new Error(`${what}[${i}]: GPU backward ${grad[i]}, GPU finite difference ${fd}`);
    }
  }
}

/** Reproducible weights for projecting outputs to a scalar: loss = sum(r * y). */
export function projection(n: number, seed: number): Float64Array {
  const rng = new PhiloxStream(seed, 12, 98);
  return Float64Array.from({ length: n }, () => 2 * rng.next() - 1);
}
