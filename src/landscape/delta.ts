/**
 * The Monte-Carlo estimator of Δk (`shaders/delta.wgsl`): from the T x n loss matrix, the
 * differences D[t, k] = L_{k+1}(w_t) - L_k(w_t) for every k in one pass (GPU prefix sums, then
 * the cancellation-safe form), and per k, in float64 on the host,
 *   Δ_{k+1} = mean_t D^2 (standard error over t) = Var_t[D] + (mean_t D)^2.
 * @module
 */
import { params } from "../gpu/params.ts";
import { wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { reduceRows } from "../ops/reduce.ts";
import { cumsum } from "../ops/scan.ts";
import { PhiloxStream, RNG_DOMAIN } from "../rng/philox.ts";
import { Tensor } from "../tensor.ts";
import { LOSS_CAUSE, requireFinite } from "./finite.ts";
import source from "../../shaders/delta.wgsl" with { type: "text" };

const shader = wgsl("shaders/delta.wgsl", source);
const WG = 256;

/** How k counts and orders the data. */
export interface DeltaOptions {
  /** "samples" (the paper's definition, default) or "batches": k counts batches of `batchSize`
   * and l is a batch's mean loss, as in the authors' code. */
  counting?: "samples" | "batches";
  /** Batch size when counting batches (default 64). */
  batchSize?: number;
  /** Reshuffle the data order independently for every point (the authors' code), seeded. */
  reshuffleSeed?: number;
}

/** Δk for k = 2 .. n with its standard error and decomposition. */
export interface DeltaCurve {
  /** k (the number of samples, or batches, after the step): 2, 3, ..., n. */
  k: Float64Array;
  /** Δ_k = E_p[(L_k - L_{k-1})^2]. */
  delta: Float64Array;
  /** Standard error of Δ_k over the T points. */
  se: Float64Array;
  /** Var_p[L_k - L_{k-1}] (population variance over points). */
  variance: Float64Array;
  /** (E_p[L_k - L_{k-1}])^2; variance + meanSquared = delta. */
  meanSquared: Float64Array;
  /** T, the number of Monte-Carlo points. */
  points: number;
  /** D[t, j] = L_{j+2}(w_t) - L_{j+1}(w_t), row-major [T, n - 1] (for bootstrap intervals). */
  differences: Float32Array;
}

function launch(
  entryPoint: string,
  rows: number,
  n: number,
  count: number,
  bindings: Tensor<"f32" | "u32">[],
): void {
  bindings[0].gpu.dispatch({
    kernel: { shader, entryPoint, constants: { WG } },
    bindings,
    params: params().u32(rows).u32(n),
    workgroups: ceilDiv(count, WG),
  });
}

/** D [T, n - 1] on the GPU from losses [T, n] (the caller owns it). */
export function recordDifferences(losses: Tensor): Tensor {
  const [rows, n] = losses.shape;
  if (n < 2) throw new RangeError(`Δk needs at least 2 samples per row, got ${n}`);
  const prefix = cumsum(losses, rows);
  const diffs = Tensor.empty(losses.gpu, [rows, n - 1]);
  launch("differences", rows, n, rows * (n - 1), [losses, prefix, diffs]);
  prefix.dispose();
  return diffs;
}

/**
 * Losses [T, n] with every row's columns permuted by its own seeded order (row r is point
 * firstRow + r, whose order is keyed by that index).
 */
export function reshuffle(losses: Tensor, seed: number, firstRow = 0): Tensor {
  const [rows, n] = losses.shape;
  const order = new Uint32Array(rows * n);
  for (let t = 0; t < rows; t++) {
    order.set(new PhiloxStream(seed, firstRow + t, RNG_DOMAIN.data).permutation(n), t * n);
  }
  const orderT = Tensor.from(losses.gpu, order, [rows, n]);
  const out = Tensor.empty(losses.gpu, [rows, n]);
  launch("permute", rows, n, rows * n, [losses, orderT, out]);
  orderT.dispose();
  return out;
}

/** Per-batch mean losses [T, n / batchSize] (n must be a multiple of batchSize). */
export function batchMeans(losses: Tensor, batchSize: number): Tensor {
  const [rows, n] = losses.shape;
  if (n % batchSize !== 0) {
    throw new RangeError(
      `counting batches of ${batchSize} needs a multiple of ${batchSize} samples, got ${n}`,
    );
  }
  const flat = reduceRows(losses, "mean", rows * (n / batchSize));
  const out = Tensor.empty(losses.gpu, [rows, n / batchSize]);
  losses.gpu.copy(flat, out);
  flat.dispose();
  return out;
}

/**
 * Statistics over the T points for every k, in float64, from D [T, m]; a NaN or infinite
 * difference throws a `NonFiniteError` naming its points.
 */
export function curveFromDifferences(d: Float32Array, points: number): DeltaCurve {
  const m = d.length / points;
  requireFinite(d, {
    quantity: "the loss difference L_k - L_{k-1}",
    unit: "Monte-Carlo point",
    rowLength: m,
    where: (t, j) => `point ${t} from k = ${j + 2}`,
    cause: LOSS_CAUSE,
  });
  const k = new Float64Array(m), delta = new Float64Array(m), se = new Float64Array(m);
  const variance = new Float64Array(m), meanSquared = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    let s1 = 0, s2 = 0, s4 = 0;
    for (let t = 0; t < points; t++) {
      const v = d[t * m + j];
      s1 += v;
      s2 += v * v;
      s4 += v * v * v * v;
    }
    const mean = s1 / points, mean2 = s2 / points;
    k[j] = j + 2;
    delta[j] = mean2;
    meanSquared[j] = mean * mean;
    variance[j] = Math.max(0, mean2 - mean * mean);
    se[j] = points > 1 ? Math.sqrt(Math.max(0, s4 / points - mean2 * mean2) / (points - 1)) : NaN;
  }
  return { k, delta, se, variance, meanSquared, points, differences: d };
}

/**
 * The differences D [T, m] of a loss matrix [T, n] on the GPU, read back (m = n - 1, or
 * n / batchSize - 1 when counting batches); row r is point firstRow + r.
 */
export async function differenceRows(
  losses: Tensor,
  options: DeltaOptions = {},
  firstRow = 0,
): Promise<Float32Array> {
  const owned: Tensor[] = [];
  let l = losses;
  if (options.reshuffleSeed !== undefined) {
    owned.push(l = reshuffle(l, options.reshuffleSeed, firstRow));
  }
  if (options.counting === "batches") {
    const means = batchMeans(l, options.batchSize ?? 64);
    owned.push(means);
    l = means;
  }
  const diffs = recordDifferences(l);
  owned.push(diffs);
  try {
    return await diffs.read();
  } finally {
    for (const t of owned) t.dispose();
  }
}

/** Δk from a loss matrix [T, n] on the GPU (one readback of the differences). */
export async function deltaCurve(losses: Tensor, options: DeltaOptions = {}): Promise<DeltaCurve> {
  return curveFromDifferences(await differenceRows(losses, options), losses.shape[0]);
}
