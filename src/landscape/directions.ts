/**
 * Random directions in parameter space (Li et al. 2018): d ~ N(0, I) shaped like the trainable
 * parameters, filter-normalised so every filter (conv output channel, dense output row) has the
 * norm of the trained filter; biases and batch-norm parameters get zero direction by default
 * (with `includeBiasAndNorm`, d = w for them, as Li et al. do). Optionally the whole direction
 * is rescaled to a global norm (the authors' code: unit norm times a factor).
 * @module
 */
import type { Sequential } from "../nn/sequential.ts";
import { normal } from "../ops/random.ts";
import { RNG_DOMAIN } from "../rng/philox.ts";
import { Tensor } from "../tensor.ts";

/** How directions are drawn and scaled. */
export interface DirectionOptions {
  /** Seed; direction j is stream j of the "directions" domain. */
  seed: number;
  /** Scale each filter of d to the norm of the same filter of w* (default true). */
  filterNormalize?: boolean;
  /** Give biases and batch-norm parameters the direction d = w instead of 0 (default false). */
  includeBiasAndNorm?: boolean;
  /** After filter normalisation, scale d to this global norm (the authors' unit norm x factor). */
  globalNorm?: number;
}

/** `count` directions as host arrays over the flat parameter vector (padding zero). */
export async function randomDirections(
  model: Sequential,
  count: number,
  options: DirectionOptions,
): Promise<Float32Array[]> {
  const { filterNormalize = true, includeBiasAndNorm = false, globalNorm } = options;
  const gpu = model.gpu;
  const size = model.params.values.size;
  const raw = Array.from(
    { length: count },
    (_, j) => normal(gpu, [size], { seed: options.seed, stream: j, domain: RNG_DOMAIN.directions }),
  );
  const [center, ...draws] = await Promise.all([
    model.params.values.read(),
    ...raw.map((t) => t.read()),
  ]);
  for (const t of raw) t.dispose();
  const trainable = model.params.entries.filter((e) => e.spec.kind !== "running");
  return draws.map((drawn) => {
    const d = new Float32Array(size);
    for (const e of trainable) {
      const at = e.binding.offset, n = e.binding.value.size;
      if (e.spec.shape.length < 2) {
        if (includeBiasAndNorm) d.set(center.subarray(at, at + n), at);
        continue;
      }
      const filters = e.spec.shape[0], len = n / filters;
      for (let f = 0; f < filters; f++) {
        const lo = at + f * len;
        let dn = 0, wn = 0;
        for (let i = lo; i < lo + len; i++) {
          dn += drawn[i] * drawn[i];
          wn += center[i] * center[i];
        }
        const s = filterNormalize ? Math.sqrt(wn) / (Math.sqrt(dn) + 1e-10) : 1;
        for (let i = lo; i < lo + len; i++) d[i] = drawn[i] * s;
      }
    }
    if (globalNorm !== undefined) {
      const norm = Math.sqrt(d.reduce((s, v) => s + v * v, 0));
      if (norm > 0) { for (let i = 0; i < size; i++) d[i] *= globalNorm / norm; }
    }
    return d;
  });
}

/**
 * The directions in the layout the subspace shaders read: [N, dim4 * 4], index-major, dim
 * padded with zero columns to a multiple of 4.
 */
export function interleave(model: Sequential, directions: Float32Array[]): Tensor {
  const size = model.params.values.size;
  const width = Math.max(4, Math.ceil(directions.length / 4) * 4);
  const bytes = size * width * 4;
  if (bytes > model.gpu.limits.maxStorageBufferBindingSize) {
    throw new RangeError(
      `${directions.length} directions of ${size} parameters need ${bytes} bytes, above this device's ` +
        `maxStorageBufferBindingSize of ${model.gpu.limits.maxStorageBufferBindingSize}; use fewer directions`,
    );
  }
  const out = new Float32Array(size * width);
  directions.forEach((d, j) => {
    for (let i = 0; i < size; i++) out[i * width + j] = d[i];
  });
  return Tensor.from(model.gpu, out, [size, width]);
}
