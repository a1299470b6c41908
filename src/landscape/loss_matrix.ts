/**
 * Per-sample losses at many parameter points: the T x n matrix l[t, i] = loss of sample i at
 * point t, which Δk, landscapes, integrand maps and widths are all computed from. Points are
 * evaluated G at a time through the perturbed-forward mechanism (layer kernels form each
 * point's weights on the fly; no perturbed copy is written), samples B at a time, in eval mode
 * (batch norm with running statistics, dropout off).
 * @module
 */
import type { Dataset } from "../data/dataset.ts";
import { gather } from "../data/batches.ts";
import { assertReadyFor } from "../nn/fits.ts";
import { softmaxCrossEntropy } from "../nn/loss.ts";
import type { Perturbation } from "../nn/perturbation.ts";
import type { Sequential } from "../nn/sequential.ts";
import { squaredError } from "../nn/squared_error.ts";
import { reduceRows } from "../ops/reduce.ts";
import { Tensor } from "../tensor.ts";

/** Which parameter points to evaluate. */
export type Points =
  /**
   * w* + sigma * eps_t for t = first .. first + count - 1 (first defaults to 0),
   * eps_t ~ N(0, I) keyed by (seed, t, index). Antithetic: point t is w* ± sigma * eps_p of the
   * pair p = floor(t / 2), + for even t and - for odd t, eps_p keyed by (seed, p, index).
   */
  | {
    mode: "full";
    count: number;
    seed: number;
    sigma: number;
    first?: number;
    antithetic?: boolean;
  }
  /**
   * w* + sum_j coefficients[t, j] d_j (directions [N, dim4], coefficients [count, dim4]); `dim`:
   * the directions in use, the first columns (default all, padding included).
   */
  | {
    mode: "subspace";
    directions: Tensor;
    coefficients: Float32Array;
    count: number;
    dim?: number;
  }
  /** w* itself. */
  | { mode: "center" };

/** Points [first, end) of a point set: one shard's share of the work. */
export interface PointRange {
  /** First point. */
  first: number;
  /** One past the last point. */
  end: number;
}

/** The samples and the loss that scores them. */
export type EvalData =
  | { dataset: Dataset; loss: "cross-entropy" }
  /** Squared error against `targets` [n, outputs] (for exactly quadratic test models). */
  | { dataset: Dataset; loss: "squared-error"; targets: Float32Array };

/** Options of {@link lossMatrix}. */
export interface LossMatrixOptions {
  /** Bytes one activation tensor may take (default 32 MiB); sets the chunk sizes. */
  activationBudget?: number;
  /** Most points per dispatch (default 256). */
  maxPointsPerChunk?: number;
  /** Most samples per dispatch (default 2048). */
  maxSamplesPerChunk?: number;
  /** Called after each chunk has finished on the GPU, with points x samples done. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Throws a ModelDataError unless `model` takes the samples, has one output per class (or target)
 * and has parameters (initialised, trained or loaded): what every estimator checks first.
 */
export async function assertEvaluable(model: Sequential, data: EvalData): Promise<void> {
  await assertReadyFor(
    model,
    data.dataset,
    data.loss === "squared-error" ? data.targets : undefined,
  );
}

/** Number of points in a point set. */
export function pointTotal(points: Points): number {
  return points.mode === "center" ? 1 : points.count;
}

/**
 * Points [first, end) of a set, as a set of its own: the same parameter points (the noise of
 * point t stays keyed by t), so their losses equal those rows of the whole set's matrix.
 */
export function slicePoints(points: Points, first: number, end: number): Points {
  const total = pointTotal(points);
  if (
    !(Number.isInteger(first) && Number.isInteger(end) && 0 <= first && first <= end &&
      end <= total)
  ) {
    throw new RangeError(`point range [${first}, ${end}) is not within [0, ${total})`);
  }
  if (points.mode === "center") {
    if (first !== 0 || end !== 1) throw new RangeError("the center is one point");
    return points;
  }
  if (points.mode === "full") {
    return { ...points, count: end - first, first: (points.first ?? 0) + first };
  }
  const width = points.directions.shape[1];
  return {
    ...points,
    count: end - first,
    coefficients: points.coefficients.subarray(first * width, end * width),
  };
}

/** The perturbation for points [first, first + count) of a set (uploads subspace coefficients). */
function chunkPerturbation(model: Sequential, points: Points, first: number, count: number): {
  perturbation?: Perturbation;
  temporary?: Tensor;
} {
  if (points.mode === "center") return {};
  if (points.mode === "full") {
    return {
      perturbation: {
        mode: "full",
        points: count,
        seed: points.seed,
        sigma: points.sigma,
        firstPoint: (points.first ?? 0) + first,
        antithetic: points.antithetic,
      },
    };
  }
  const width = points.directions.shape[1];
  const coefficients = Tensor.from(
    model.gpu,
    points.coefficients.subarray(first * width, (first + count) * width),
    [count, width],
  );
  return {
    perturbation: {
      mode: "subspace",
      points: count,
      directions: points.directions,
      coefficients,
      dim: points.dim,
    },
    temporary: coefficients,
  };
}

/** Chunk sizes (points, samples) that keep every activation within the budget. */
export function chunkSizes(
  model: Sequential,
  points: number,
  samples: number,
  options: LossMatrixOptions = {},
): { points: number; samples: number } {
  const budget = options.activationBudget ?? 32 * 2 ** 20;
  const widest = Math.max(...model.shapes.slice(1).map((s) => s.reduce((a, b) => a * b, 1)));
  const perPair = 4 * widest;
  const b = Math.max(
    1,
    Math.min(samples, options.maxSamplesPerChunk ?? 2048, Math.floor(budget / perPair)),
  );
  const g = Math.max(
    1,
    Math.min(points, options.maxPointsPerChunk ?? 256, Math.floor(budget / (perPair * b))),
  );
  return { points: g, samples: b };
}

/**
 * Records and runs the evaluation; returns l [T, n] on the GPU (the caller owns it). Sample i
 * is sample i of the dataset, so prefix means follow the dataset's order.
 */
export async function lossMatrix(
  model: Sequential,
  data: EvalData,
  points: Points,
  options: LossMatrixOptions = {},
): Promise<Tensor> {
  await assertEvaluable(model, data);
  const gpu = model.gpu;
  const n = data.dataset.labels.length;
  const total = pointTotal(points);
  if (n === 0 || total === 0) {
    throw new RangeError("loss matrix needs at least one sample and one point");
  }
  const out = Tensor.empty(gpu, [total, n]);
  const chunk = chunkSizes(model, total, n, options);
  const ctx = { gpu, training: false, seed: 0, step: 0 };
  let done = 0;
  for (let s0 = 0; s0 < n; s0 += chunk.samples) {
    const b = Math.min(chunk.samples, n - s0);
    const indices = Array.from({ length: b }, (_, i) => s0 + i);
    const host = gather(data.dataset, indices);
    const images = Tensor.from(gpu, host.images, [1, b, ...data.dataset.shape]);
    const target = data.loss === "cross-entropy" ? Tensor.from(gpu, host.labels) : Tensor.from(
      gpu,
      data.targets.subarray(s0 * (data.targets.length / n), (s0 + b) * (data.targets.length / n)),
    );
    for (let t0 = 0; t0 < total; t0 += chunk.points) {
      const g = Math.min(chunk.points, total - t0);
      const { perturbation, temporary } = chunkPerturbation(model, points, t0, g);
      const prediction = model.forward({ ...ctx, perturbation }, images);
      let losses: Tensor;
      if (data.loss === "cross-entropy") {
        const ce = softmaxCrossEntropy(prediction, target as Tensor<"u32">);
        ce.mean.dispose();
        losses = ce.losses;
      } else {
        losses = squaredError(prediction, target as Tensor);
      }
      for (let r = 0; r < g; r++) {
        gpu.copy(losses.view([b], r * b), out.view([b], (t0 + r) * n + s0));
      }
      for (const t of [prediction, losses, temporary]) t?.dispose();
      done += g * b;
      if (options.onProgress) {
        await gpu.sync();
        options.onProgress(done, total * n);
      } else {
        await gpu.flush();
      }
    }
    images.dispose();
    target.dispose();
  }
  return out;
}

/**
 * Mean loss over the samples at points [first, end) of a set (default all), read back. Point t
 * is the same point whatever the range, so ranges concatenate to the whole set's means.
 */
export async function meanLosses(
  model: Sequential,
  data: EvalData,
  points: Points,
  range?: PointRange,
  options?: LossMatrixOptions,
): Promise<Float32Array> {
  const { first, end } = range ?? { first: 0, end: pointTotal(points) };
  if (first === end) return new Float32Array(0);
  const losses = await lossMatrix(model, data, slicePoints(points, first, end), options);
  const means = reduceRows(losses, "mean", end - first);
  try {
    return await means.read();
  } finally {
    losses.dispose();
    means.dispose();
  }
}
