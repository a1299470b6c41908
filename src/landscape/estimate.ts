/**
 * Δk of a trained model end to end: a seeded ordering of n = K + 1 training samples, T points
 * around w* (full: N(w*, sigma^2 I) over every trainable parameter; subspace: w* + sum_j a_j d_j
 * with a ~ N(0, sigma^2 I_dim) over `dim` filter-normalised directions), plain or in antithetic
 * pairs, the loss matrix, and the Δk curve with its data term (the differences at w* itself)
 * and landscape term.
 * @module
 */
import { type Dataset, datasetSize, select } from "../data/dataset.ts";
import type { Sequential } from "../nn/sequential.ts";
import { PhiloxStream, RNG_DOMAIN } from "../rng/philox.ts";
import {
  curveFromDifferences,
  type DeltaCurve,
  type DeltaOptions,
  differenceRows,
  drawRows,
} from "./delta.ts";
import { type DirectionOptions, interleave, randomDirections } from "./directions.ts";
import { requireFiniteLosses } from "./finite.ts";
import { budgetOf, combine, curveNeeds, size } from "./needs.ts";
import { requireSizes } from "./sizes.ts";
import {
  assertEvaluable,
  type EvalData,
  lossMatrix,
  type LossMatrixOptions,
  type PointRange,
  type Points,
  slicePoints,
} from "./loss_matrix.ts";
import { Tensor } from "../tensor.ts";

/** What to estimate. */
export interface EstimateOptions extends DeltaOptions {
  /** Standard deviation of the Gaussian around w* (per parameter, or per subspace coefficient). */
  sigma: number;
  /** Monte-Carlo points T (parameter points evaluated: T / 2 pairs when antithetic). */
  points: number;
  /** Samples n = K + 1 (k runs up to n), or batches of batchSize when counting batches. */
  samples: number;
  /** Seed of the sample order, the noise, the directions and the coefficients. */
  seed: number;
  /** "full" (default) or "subspace". */
  mode?: "full" | "subspace";
  /** Subspace dimension (subspace mode; default 2). */
  dim?: number;
  /** Direction normalisation (subspace mode); the seed defaults to `seed`. */
  directions?: Partial<DirectionOptions>;
  /** Chunking and progress of the evaluation (default: {@link LossMatrixOptions}' defaults). */
  evaluation?: LossMatrixOptions;
}

/** The first `count` samples of a seeded permutation of `data`: the order k counts in. */
export function sampleOrder(data: Dataset, count: number, seed: number): Dataset {
  const n = datasetSize(data);
  if (!Number.isInteger(count) || count < 2 || count > n) {
    throw new RangeError(`Δk needs between 2 and ${n} samples, got ${count}`);
  }
  const order = new PhiloxStream(seed, 2, RNG_DOMAIN.data).permutation(n).subarray(0, count);
  return select(data, order, `${data.name}:order${seed}`);
}

function gaussian(rng: PhiloxStream): number {
  return Math.sqrt(-2 * Math.log(rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * The differences D[t, j] = L_{j+2}(w_t) - L_{j+1}(w_t) for the points t in `range` (default all
 * T) of the estimate `o` describes, row-major [end - first, samples - 1]. Point t is the same
 * point whatever the range, so the rows of several ranges concatenate to those of the whole.
 * Throws a `NonFiniteError` naming the points when a loss is NaN or infinite.
 */
export async function estimateDifferences(
  model: Sequential,
  data: Dataset,
  o: EstimateOptions,
  range: PointRange = { first: 0, end: o.points },
): Promise<Float32Array> {
  await assertEvaluable(model, { dataset: data, loss: "cross-entropy" });
  if (!(o.sigma > 0) || !Number.isFinite(o.sigma)) {
    throw new RangeError(`sigma must be > 0, got ${o.sigma}`);
  }
  if (!Number.isInteger(o.points) || o.points < 2) {
    throw new RangeError(`points must be an integer >= 2, got ${o.points}`);
  }
  const pairs = drawRows(o.estimator) === 2;
  if (pairs && o.points % 2 !== 0) {
    throw new RangeError(`antithetic pairs need an even number of points, got ${o.points}`);
  }
  const eval_ = evalSamples(data, o);
  if (range.first === range.end) return new Float32Array(0);
  const subspace = (o.mode ?? "full") !== "full";
  const perUnit = o.counting === "batches" ? (o.batchSize ?? 64) : 1;
  // Before any direction is drawn: the directions and the loss matrix must fit.
  requireSizes(
    [
      { name: "points", value: range.end - range.first, min: 1 },
      { name: "samples", value: o.samples, min: 2 },
      { name: "dim", value: o.dim ?? 2, min: 1 },
    ],
    curveNeeds(budgetOf(model.gpu), model.params.values.size, {
      points: size("points"),
      columns: combine([size("samples")], (n) => n * perUnit),
      dim: subspace ? size("dim") : undefined,
      reshuffle: o.reshuffleSeed !== undefined,
      available: datasetSize(data),
    }),
  );
  let points: Points;
  let owned: { dispose(): void } | undefined;
  if (!subspace) {
    points = { mode: "full", count: o.points, seed: o.seed, sigma: o.sigma, antithetic: pairs };
  } else {
    const dim = o.dim ?? 2;
    if (!Number.isInteger(dim) || dim < 1) {
      throw new RangeError(`dim must be an integer >= 1, got ${dim}`);
    }
    const directions = interleave(
      model,
      await randomDirections(model, dim, { seed: o.seed, ...o.directions }),
    );
    owned = directions;
    const width = directions.shape[1];
    const rng = new PhiloxStream(o.seed, 3, RNG_DOMAIN.perturbation);
    // Draw u's coefficients: point u (plain) or points 2u and 2u + 1 with both signs.
    const coefficients = new Float32Array(o.points * width);
    const r = pairs ? 2 : 1;
    for (let u = 0; u < o.points / r; u++) {
      for (let j = 0; j < dim; j++) {
        const a = o.sigma * gaussian(rng);
        for (let i = 0; i < r; i++) coefficients[(u * r + i) * width + j] = i === 0 ? a : -a;
      }
    }
    points = { mode: "subspace", directions, coefficients, count: o.points, dim };
  }
  try {
    const slice = slicePoints(points, range.first, range.end);
    const losses = await lossMatrix(model, eval_, slice, o.evaluation);
    let rows: Float32Array;
    try {
      rows = await differenceRows(losses, o, range.first);
    } finally {
      losses.dispose();
    }
    await requireFiniteLosses(model, rows, {
      quantity: "the loss difference L_k - L_{k-1}",
      unit: "Monte-Carlo point",
      rowLength: rows.length / (range.end - range.first),
      where: (r, c) => `point ${range.first + r} from k = ${c + 2}`,
    }, { name: "sigma", value: o.sigma });
    return rows;
  } finally {
    owned?.dispose();
  }
}

/** The samples the estimate `o` scores: the first of a seeded order of `data`. */
function evalSamples(data: Dataset, o: EstimateOptions): EvalData {
  const perUnit = o.counting === "batches" ? (o.batchSize ?? 64) : 1;
  return { dataset: sampleOrder(data, o.samples * perUnit, o.seed), loss: "cross-entropy" };
}

/**
 * Rows of the differences at w* that the estimate `o` needs: one when every point counts k in
 * the same data order, T when each point has its own (reshuffled) order.
 */
export function centerRowCount(o: EstimateOptions): number {
  return o.reshuffleSeed === undefined ? 1 : o.points;
}

/**
 * The differences a[j] = L_{j+2}(w*) - L_{j+1}(w*) at w* itself for the rows in `range` (default
 * all) of the {@link centerRowCount} rows, row-major [end - first, samples - 1]: row t in point
 * t's data order. Computed by the same GPU path as the points' differences, so that their
 * float32 roundings match.
 */
export async function estimateCenter(
  model: Sequential,
  data: Dataset,
  o: EstimateOptions,
  range: PointRange = { first: 0, end: centerRowCount(o) },
): Promise<Float32Array> {
  const eval_ = evalSamples(data, o);
  const rows = range.end - range.first;
  if (rows === 0) return new Float32Array(0);
  const row = await lossMatrix(model, eval_, { mode: "center" }, o.evaluation);
  let losses = row;
  if (rows > 1) {
    const n = row.shape[1];
    losses = Tensor.empty(model.gpu, [rows, n]);
    for (let t = 0; t < rows; t++) model.gpu.copy(row, losses.view([n], t * n));
    row.dispose();
  }
  try {
    return await differenceRows(losses, o, range.first);
  } finally {
    losses.dispose();
  }
}

/**
 * Estimates the Δk curve of `model` (at its current parameters, w*) on `data`, with its data
 * and landscape terms.
 */
export async function estimateDelta(
  model: Sequential,
  data: Dataset,
  o: EstimateOptions,
): Promise<DeltaCurve> {
  const differences = await estimateDifferences(model, data, o);
  const center = await estimateCenter(model, data, o);
  return curveFromDifferences(differences, o.points, { estimator: o.estimator, center });
}
