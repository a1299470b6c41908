/**
 * The Monte-Carlo estimator of Δk (`shaders/delta.wgsl`): from the T x n loss matrix, the
 * differences D[t, k] = L_{k+1}(w_t) - L_k(w_t) for every k in one pass (GPU prefix sums, then
 * the cancellation-safe form), and per k, in float64 on the host,
 *   Δ_{k+1} = mean_t D^2 (standard error over t) = Var_t[D] + (mean_t D)^2,
 * and, given the differences a at w* itself, its split into the data term a^2 (exact: no
 * sampling) and the landscape term Δ - a^2 (the part that depends on σ and the landscape).
 *
 * Estimators: "plain" points are independent draws; "antithetic" points come in pairs w* ± σε_p
 * (rows 2p and 2p + 1), so every odd term in ε, such as the cross term 2aσ(c·ε) that dominates
 * the variance at small σ, cancels within a pair. Either way Δ is the mean of D^2 over all
 * rows; standard errors are over the independent draws (points, or pairs).
 * @module
 */
import { uniformStruct } from "../gpu/uniforms.ts";
import { wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { reduceRows } from "../ops/reduce.ts";
import { cumsum } from "../ops/scan.ts";
import { PhiloxStream, RNG_DOMAIN } from "../rng/philox.ts";
import { Tensor } from "../tensor.ts";
import { LOSS_CAUSE, requireFinite } from "./finite.ts";
import { invocationShader } from "../gpu/invocation.ts";
import source from "../../shaders/delta.wgsl" with { type: "text" };

const shader = wgsl("shaders/delta.wgsl", source, invocationShader);
const UNIFORMS = uniformStruct("Params", { rows: "u32", n: "u32" });
const WG = 256;

/** How the Monte-Carlo points were drawn: independently, or in antithetic pairs w* ± σε_p. */
export type Estimator = "plain" | "antithetic";

/** Rows of D per independent draw: 1 for plain points, 2 for antithetic pairs. */
export function drawRows(estimator: Estimator = "plain"): number {
  return estimator === "antithetic" ? 2 : 1;
}

/** How k counts and orders the data. */
export interface DeltaOptions {
  /**
   * How the points are drawn: "plain" (default), independently, or "antithetic", in pairs
   * w* ± σε that share their data order.
   */
  estimator?: "plain" | "antithetic";
  /** "samples" (the paper's definition, default) or "batches": k counts batches of `batchSize`
   * and l is a batch's mean loss, as in the authors' code. */
  counting?: "samples" | "batches";
  /** Batch size when counting batches (default 64). */
  batchSize?: number;
  /**
   * Reshuffle the data order independently for every point (the authors' code), seeded;
   * default none: every point takes the samples in one order.
   */
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
  /** How the points were drawn (absent: "plain"); bootstraps resample whole draws. */
  estimator?: "plain" | "antithetic";
  /**
   * Antithetic curves: the squared standard error plain sampling would have at the same number
   * of points, over the antithetic one (measured from the same pairs: > 1 where pairs win).
   */
  varianceRatio?: Float64Array;
  /** The split into data and landscape terms, when the differences at w* were measured. */
  terms?: DeltaTerms;
}

/** Δ_k = data + landscape. */
export interface DeltaTerms {
  /** a_k^2 = (L_k(w*) - L_{k-1}(w*))^2 at w* itself (mean over the rows' data orders when each
   * row has its own): no sampling error, independent of σ and of the landscape. */
  data: Float64Array;
  /** Δ_k - a_k^2: what σ and the landscape around w* add. */
  landscape: Float64Array;
  /** Standard error of the landscape term over the independent draws. */
  landscapeSe: Float64Array;
  /** The differences a at w*: [n - 1] (one data order for every row) or [T, n - 1]. */
  center: Float32Array;
}

/** Options of {@link curveFromDifferences}. */
export interface CurveOptions {
  /** How the points were drawn (default "plain"). */
  estimator?: "plain" | "antithetic";
  /** Differences at w* itself, [n - 1] or (one data order per row) [T, n - 1]: adds `terms`. */
  center?: Float32Array;
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
    params: UNIFORMS.write({ rows, n }),
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
 * firstRow + r, whose order is keyed by its draw, floor((firstRow + r) / rowsPerDraw): the two
 * points of an antithetic pair share one order).
 */
export function reshuffle(losses: Tensor, seed: number, firstRow = 0, rowsPerDraw = 1): Tensor {
  const [rows, n] = losses.shape;
  const order = new Uint32Array(rows * n);
  for (let t = 0; t < rows; t++) {
    const draw = Math.floor((firstRow + t) / rowsPerDraw);
    order.set(new PhiloxStream(seed, draw, RNG_DOMAIN.data).permutation(n), t * n);
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
 * Statistics over the T points for every k, in float64, from D [T, m]: Δ, its standard error over
 * the independent draws, and (given the differences at w*) its data and landscape terms.
 */
export function curveFromDifferences(
  d: Float32Array,
  points: number,
  options: CurveOptions = {},
): DeltaCurve {
  const m = d.length / points;
  const estimator = options.estimator ?? "plain", r = drawRows(estimator);
  if (!Number.isInteger(points / r)) {
    throw new RangeError(`antithetic pairs need an even number of points, got ${points}`);
  }
  const center = options.center;
  if (center && center.length !== m && center.length !== points * m) {
    throw new RangeError(
      `the differences at w* have ${center.length} values; expected ${m} (one data order) or ` +
        `${points * m} (one per point)`,
    );
  }
  requireFinite(d, {
    quantity: "the loss difference L_k - L_{k-1}",
    unit: "Monte-Carlo point",
    rowLength: m,
    where: (t, j) => `point ${t} from k = ${j + 2}`,
    cause: LOSS_CAUSE,
  });
  if (center) {
    requireFinite(center, {
      quantity: "the loss difference L_k - L_{k-1} at w*",
      unit: "data order",
      rowLength: m,
      where: (t, j) => `order ${t} from k = ${j + 2}`,
      cause: "the model's parameters are not finite",
    });
  }
  const draws = points / r;
  const k = new Float64Array(m), delta = new Float64Array(m), se = new Float64Array(m);
  const variance = new Float64Array(m), meanSquared = new Float64Array(m);
  const varianceRatio = r > 1 ? new Float64Array(m) : undefined;
  const data = new Float64Array(m), landscape = new Float64Array(m);
  const landscapeSe = new Float64Array(m);
  const aAt = (t: number, j: number) => center!.length === m ? center![j] : center![t * m + j];
  const sampleSe = (s1: number, s2: number, n: number) =>
    n > 1 ? Math.sqrt(Math.max(0, s2 / n - (s1 / n) ** 2) / (n - 1)) : NaN;
  for (let j = 0; j < m; j++) {
    let s1 = 0, s2 = 0, s4 = 0, y2 = 0, a2 = 0, l1 = 0, l2 = 0;
    for (let u = 0; u < draws; u++) {
      let y = 0, ya = 0;
      for (let i = 0; i < r; i++) {
        const t = u * r + i, v = d[t * m + j];
        s1 += v;
        s2 += v * v;
        s4 += v * v * v * v;
        y += v * v / r;
        if (center) ya += aAt(t, j) ** 2 / r;
      }
      y2 += y * y;
      a2 += ya;
      l1 += y - ya;
      l2 += (y - ya) ** 2;
    }
    const mean = s1 / points, mean2 = s2 / points;
    k[j] = j + 2;
    delta[j] = mean2;
    meanSquared[j] = mean * mean;
    variance[j] = Math.max(0, mean2 - mean * mean);
    se[j] = sampleSe(s2 / r, y2, draws); // Σ_u y_u = s2 / r
    if (varianceRatio) varianceRatio[j] = sampleSe(s2, s4, points) ** 2 / se[j] ** 2;
    if (center) {
      data[j] = center.length === m ? center[j] * center[j] : a2 / draws;
      landscape[j] = delta[j] - data[j];
      landscapeSe[j] = sampleSe(l1, l2, draws);
    }
  }
  return {
    k,
    delta,
    se,
    variance,
    meanSquared,
    points,
    differences: d,
    ...(estimator === "plain" ? {} : { estimator }),
    ...(varianceRatio ? { varianceRatio } : {}),
    ...(center ? { terms: { data, landscape, landscapeSe, center } } : {}),
  };
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
    owned.push(l = reshuffle(l, options.reshuffleSeed, firstRow, drawRows(options.estimator)));
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

/**
 * Δk from a loss matrix [T, n] on the GPU (one readback of the differences).
 * @param options How k counts and orders the data (default: plain points, k counts samples).
 */
export async function deltaCurve(losses: Tensor, options?: DeltaOptions): Promise<DeltaCurve> {
  options ??= {};
  return curveFromDifferences(await differenceRows(losses, options), losses.shape[0], options);
}
