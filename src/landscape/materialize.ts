/**
 * The slow path the fused evaluation is checked and benchmarked against: for every point, write
 * w_t into the model's parameters and run the ordinary forward pass, then restore w*.
 * @module
 */
import { add, scale } from "../ops/elementwise.ts";
import { fillNormal } from "../ops/random.ts";
import { RNG_DOMAIN } from "../rng/philox.ts";
import type { Sequential } from "../nn/sequential.ts";
import { Tensor } from "../tensor.ts";
import {
  type EvalData,
  lossMatrix,
  type LossMatrixOptions,
  type Points,
  pointTotal,
} from "./loss_matrix.ts";

/** l [T, n] computed point by point with materialised weights (same numbers as lossMatrix). */
export async function lossMatrixMaterialized(
  model: Sequential,
  data: EvalData,
  points: Points,
  options: LossMatrixOptions = {},
): Promise<Tensor> {
  const gpu = model.gpu;
  const values = model.params.values;
  const n = data.dataset.labels.length;
  const total = pointTotal(points);
  const out = Tensor.empty(gpu, [total, n]);
  const center = Tensor.empty(gpu, values.shape);
  gpu.copy(values, center);
  const noise = Tensor.empty(gpu, values.shape);
  let host: { center: Float32Array; directions: Float32Array } | undefined;
  try {
    for (let t = 0; t < total; t++) {
      if (points.mode === "full") {
        const t0 = (points.first ?? 0) + t;
        const [stream, sign] = points.antithetic ? [t0 >> 1, t0 % 2 ? -1 : 1] : [t0, 1];
        fillNormal(noise, { seed: points.seed, stream, domain: RNG_DOMAIN.perturbation });
        const step = scale(noise, sign * points.sigma);
        const w = add(center, step);
        gpu.copy(w, values);
        step.dispose();
        w.dispose();
      } else if (points.mode === "subspace") {
        host ??= { center: await center.read(), directions: await points.directions.read() };
        const width = points.directions.shape[1];
        const c = points.coefficients.subarray(t * width, (t + 1) * width);
        const w = Float32Array.from(host.center, (v, i) => {
          let s = 0;
          for (let j = 0; j < width; j++) s += c[j] * host!.directions[i * width + j];
          return v + s;
        });
        gpu.write(values, w);
      }
      const row = await lossMatrix(model, data, { mode: "center" }, options);
      gpu.copy(row, out.view([n], t * n));
      row.dispose();
    }
  } finally {
    gpu.copy(center, values);
    await gpu.flush();
    center.dispose();
    noise.dispose();
  }
  return out;
}
