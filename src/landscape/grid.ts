/**
 * 2D loss landscapes (Li et al. 2018): f(a, b) = L(w* + a u + b v) on a grid over a fixed
 * evaluation subset, for two random filter-normalised directions u and v; and the paper's
 * integrand maps (L_{k+1} - L_k)^2 p(a, b) with p the N(0, sigma^2 I_2) density (Fig. 6).
 * Grid points are evaluated G at a time by the same perturbed forward as Δk.
 * @module
 */
import type { Sequential } from "../nn/sequential.ts";
import { recordDifferences } from "./delta.ts";
import { type DirectionOptions, interleave, randomDirections } from "./directions.ts";
import { LOSS_CAUSE, requireFinite, requireFiniteLosses } from "./finite.ts";
import { type Budget, budgetOf, fixed, gridNeeds, integrandNeeds, size } from "./needs.ts";
import { type Need, requireSizes } from "./sizes.ts";
import {
  assertEvaluable,
  type EvalData,
  lossMatrix,
  type LossMatrixOptions,
  meanLosses,
  type PointRange,
  type Points,
} from "./loss_matrix.ts";

/** The grid and its directions. */
export interface GridOptions extends DirectionOptions {
  /** Points per axis (default 51, the protocol of Li et al.). */
  resolution?: number;
  /** Coefficient range on both axes (default [-1, 1]). */
  range?: [number, number];
  /** Chunking and progress of the evaluation (default: {@link LossMatrixOptions}' defaults). */
  evaluation?: LossMatrixOptions;
}

/** A function sampled on the grid: values[i * resolution + j] at (axis[i], axis[j]). */
export interface GridValues {
  /** Points per axis. */
  resolution: number;
  /** Coordinates along each axis (a along rows, b along columns). */
  axis: Float64Array;
  /** Row-major values, a along rows. */
  values: Float64Array;
}

/** Grid coordinates along one axis. */
export function gridAxis(resolution: number, [lo, hi]: [number, number]): Float64Array {
  if (!Number.isInteger(resolution) || resolution < 1) {
    throw new RangeError(`grid resolution must be >= 1, got ${resolution}`);
  }
  if (!(hi > lo)) throw new RangeError(`grid range must have hi > lo, got [${lo}, ${hi}]`);
  return Float64Array.from(
    { length: resolution },
    (_, i) => resolution === 1 ? (lo + hi) / 2 : lo + (hi - lo) * i / (resolution - 1),
  );
}

/** The grid's coefficients, four per point (a, b, 0, 0), row-major with a along rows. */
function gridPoints(axis: Float64Array): Float32Array {
  const resolution = axis.length;
  const coefficients = new Float32Array(resolution * resolution * 4);
  for (let i = 0; i < resolution; i++) {
    for (let j = 0; j < resolution; j++) {
      coefficients[(i * resolution + j) * 4] = axis[i];
      coefficients[(i * resolution + j) * 4 + 1] = axis[j];
    }
  }
  return coefficients;
}

/**
 * The grid's axis and its directions, interleaved for subspace points, once `needs` (of the
 * resolution, "grid") fit.
 */
async function gridSet(
  model: Sequential,
  options: GridOptions,
  needs: (b: Budget, params: number) => Need[],
) {
  const axis = gridAxis(options.resolution ?? 51, options.range ?? [-1, 1]);
  requireSizes(
    [{ name: "grid", value: axis.length, min: 1 }],
    needs(budgetOf(model.gpu), model.params.values.size),
  );
  const directions = interleave(model, await randomDirections(model, 2, options));
  const points: Points = {
    mode: "subspace",
    directions,
    coefficients: gridPoints(axis),
    count: axis.length ** 2,
    dim: 2,
  };
  return { axis, directions, points };
}

/**
 * Mean loss over the evaluation samples at grid points [first, end) (default all; point
 * i * resolution + j is (axis[i], axis[j])). Ranges concatenate to the whole grid's values.
 */
export async function gridMeans(
  model: Sequential,
  data: EvalData,
  options: GridOptions,
  range?: PointRange,
): Promise<Float32Array> {
  await assertEvaluable(model, data);
  if (range && range.first === range.end) return new Float32Array(0);
  const samples = fixed(data.dataset.labels.length);
  const { axis, directions, points } = await gridSet(
    model,
    options,
    (b, params) =>
      gridNeeds(b, params, {
        grid: size("grid"),
        samples,
        rows: range ? () => fixed(range.end - range.first) : undefined,
      }),
  );
  let means: Float32Array;
  try {
    means = await meanLosses(model, data, points, range, options.evaluation);
  } finally {
    directions.dispose();
  }
  await requireFiniteLosses(
    model,
    means,
    gridCheck("the landscape's mean loss", axis, range?.first ?? 0),
    rangeSize(options),
  );
  return means;
}

/** Names grid point `first + r` by its coordinates (k: the column's k, for integrand maps). */
function gridCheck(quantity: string, axis: Float64Array, first: number, rowLength = 1) {
  const res = axis.length;
  return {
    quantity,
    unit: "grid point",
    rowLength,
    where: (r: number, c: number) => {
      const i = Math.floor((first + r) / res), j = (first + r) % res;
      return `(a, b) = (${axis[i]}, ${axis[j]})${rowLength > 1 ? ` from k = ${c + 1}` : ""}`;
    },
  };
}

/** The perturbation a grid makes, for messages. */
function rangeSize(options: GridOptions) {
  const [lo, hi] = options.range ?? [-1, 1];
  return { name: "range", value: `[${lo}, ${hi}]` };
}

/** The landscape from the mean losses at every grid point (`gridMeans`). */
export function surfaceFromMeans(means: Float32Array, options: GridOptions): GridValues {
  const axis = gridAxis(options.resolution ?? 51, options.range ?? [-1, 1]);
  if (means.length !== axis.length ** 2) {
    throw new RangeError(
      `a ${axis.length}² grid needs ${axis.length ** 2} values, got ${means.length}`,
    );
  }
  requireFinite(means, { ...gridCheck("the landscape's mean loss", axis, 0), cause: LOSS_CAUSE });
  return { resolution: axis.length, axis, values: Float64Array.from(means) };
}

/** The landscape: mean loss over the evaluation samples at every grid point. */
export async function lossSurface(
  model: Sequential,
  data: EvalData,
  options: GridOptions,
): Promise<GridValues> {
  return surfaceFromMeans(await gridMeans(model, data, options), options);
}

/** N(0, sigma^2 I_2) density at (a, b). */
export function gaussian2(a: number, b: number, sigma: number): number {
  return Math.exp(-(a * a + b * b) / (2 * sigma * sigma)) / (2 * Math.PI * sigma * sigma);
}

/**
 * Integrand maps (L_{k+1} - L_k)^2 p(a, b) for each k in `ks`, over the first max(ks) + 1
 * samples of `data` in order.
 */
export async function integrandMaps(
  model: Sequential,
  data: EvalData,
  ks: number[],
  sigma: number,
  options: GridOptions,
): Promise<{ k: number; map: GridValues }[]> {
  await assertEvaluable(model, data);
  const n = data.dataset.labels.length;
  const kMax = Math.max(...ks);
  if (ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new RangeError(`k must be integers >= 1, got ${ks}`);
  }
  if (kMax + 1 > n) {
    throw new RangeError(`k = ${kMax} needs ${kMax + 1} samples, the data has ${n}`);
  }
  if (!(sigma > 0)) throw new RangeError(`sigma must be > 0, got ${sigma}`);
  const { axis, directions, points } = await gridSet(
    model,
    options,
    (b, params) =>
      integrandNeeds(b, params, { grid: size("grid"), columns: fixed(n), available: n }),
  );
  let d: Float32Array;
  try {
    const losses = await lossMatrix(model, data, points, options.evaluation);
    const diffs = recordDifferences(losses);
    d = await diffs.read();
    losses.dispose();
    diffs.dispose();
  } finally {
    directions.dispose();
  }
  const m = n - 1, res = axis.length;
  await requireFiniteLosses(
    model,
    d,
    gridCheck("the loss difference L_{k+1} - L_k", axis, 0, m),
    rangeSize(options),
  );
  return ks.map((k) => {
    const values = new Float64Array(res * res);
    for (let i = 0; i < res; i++) {
      for (let j = 0; j < res; j++) {
        const v = d[(i * res + j) * m + k - 1];
        values[i * res + j] = v * v * gaussian2(axis[i], axis[j], sigma);
      }
    }
    return { k, map: { resolution: res, axis, values } };
  });
}
