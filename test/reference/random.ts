/** Float64 reference for the Gaussian fill: Box-Muller on the same Philox words. */
import { philoxBlock, unitFloat } from "../../src/rng/philox.ts";

export function normalRef(
  n: number,
  seed: number,
  stream: number,
  domain: number,
  offset = 0,
): { values: Float64Array; radius: Float64Array } {
  const values = new Float64Array(n);
  const radius = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = offset + i;
    const w = philoxBlock(seed, stream, domain, Math.floor(e / 4));
    const pair = (e & 3) < 2 ? 0 : 2;
    const r = Math.sqrt(-2 * Math.log(unitFloat(w[pair])));
    const t = Math.PI * (2 * unitFloat(w[pair + 1]) - 1);
    values[i] = (e & 1) === 0 ? r * Math.cos(t) : r * Math.sin(t);
    radius[i] = r;
  }
  return { values, radius };
}

/**
 * Bound of a GPU Gaussian against normalRef, given the reference's radius r = sqrt(-2 log u):
 * WGSL bounds sin and cos errors by 2^-11 absolute on [-pi, pi], and log's by 2^-21 absolute on
 * [0.5, 2] (3 ULP elsewhere); with r <= sqrt(48 ln 2) = 5.77, an error d in log u moves r by at
 * most min(sqrt(2 d), 2 d / r); the rest is f32 rounding.
 */
export function normalBound(r: number): number {
  return r * 2 ** -11 + Math.min(2 ** -10, 2 ** -20 / r) + 1e-5 * (1 + r);
}
