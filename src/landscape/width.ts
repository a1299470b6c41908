/**
 * A width of the landscape around w*: along random filter-normalised directions d (both
 * signs), the smallest radius alpha at which the mean loss reaches L(w*) + rise. Averaged over
 * directions, it turns "batch norm narrows the minimum, dropout widens it" into a number.
 * @module
 */
import type { Sequential } from "../nn/sequential.ts";
import { type DirectionOptions, interleave, randomDirections } from "./directions.ts";
import { LOSS_CAUSE, requireFinite, requireFiniteLosses } from "./finite.ts";
import { budgetOf, fixed, size, widthNeeds } from "./needs.ts";
import { requireSizes } from "./sizes.ts";
import {
  assertEvaluable,
  type EvalData,
  type LossMatrixOptions,
  meanLosses,
  type PointRange,
  type Points,
} from "./loss_matrix.ts";

/** Options of {@link landscapeWidth}. */
export interface WidthOptions extends DirectionOptions {
  /** Random directions (each probed with both signs; default 8). */
  directions?: number;
  /** Loss increase that defines the edge, in nats (default 1). */
  rise?: number;
  /** Largest radius probed (default 2); rays that stay below the edge count as this radius. */
  maxRadius?: number;
  /** Probes per ray (default 24). */
  steps?: number;
  /** Chunking and progress of the evaluation (default: {@link LossMatrixOptions}' defaults). */
  evaluation?: LossMatrixOptions;
}

/** The measured width. */
export interface Width {
  /** Mean edge radius over all rays. */
  radius: number;
  /** Its standard error over the rays. */
  se: number;
  /** Edge radius of each ray (direction j, + then -). */
  radii: number[];
  /** Rays that never reached the edge within maxRadius (their radius is maxRadius). */
  censored: number;
  /** Mean loss at w*. */
  baseLoss: number;
  /** The loss rise that defined the edge. */
  rise: number;
}

function settings(options: WidthOptions) {
  const count = options.directions ?? 8, rise = options.rise ?? 1;
  const maxRadius = options.maxRadius ?? 2, steps = options.steps ?? 24;
  if (!(rise > 0) || !(maxRadius > 0) || count < 1 || steps < 1) {
    throw new RangeError("width needs directions >= 1, steps >= 1, rise > 0 and maxRadius > 0");
  }
  return { count, rise, maxRadius, steps, rays: 2 * count, total: 1 + 2 * count * steps };
}

/** Points a width measurement evaluates: w*, then `steps` probes along each ray. */
export function widthPointCount(options: WidthOptions): number {
  return settings(options).total;
}

/**
 * Mean loss at the width's probe points [first, end) (default all; point 0 is w*, then ray r,
 * step s at 1 + r * steps + s). Ranges concatenate to the whole curve.
 */
export async function widthCurve(
  model: Sequential,
  data: EvalData,
  options: WidthOptions,
  range?: PointRange,
): Promise<Float32Array> {
  const { count, maxRadius, steps, rays, total } = settings(options);
  await assertEvaluable(model, data);
  if (range && range.first === range.end) return new Float32Array(0);
  // Before any direction is drawn: the directions and the probes' losses must fit.
  requireSizes(
    [
      { name: "directions", value: count, min: 1 },
      { name: "steps", value: steps, min: 1 },
    ],
    widthNeeds(budgetOf(model.gpu), model.params.values.size, {
      directions: size("directions"),
      steps: size("steps"),
      samples: fixed(data.dataset.labels.length),
      rows: range ? () => fixed(range.end - range.first) : undefined,
    }),
  );
  const directions = interleave(model, await randomDirections(model, count, options));
  const width = directions.shape[1];
  const coefficients = new Float32Array(total * width);
  for (let r = 0; r < rays; r++) {
    const sign = r % 2 === 0 ? 1 : -1, j = Math.floor(r / 2);
    for (let s = 0; s < steps; s++) {
      coefficients[(1 + r * steps + s) * width + j] = sign * maxRadius * (s + 1) / steps;
    }
  }
  let means: Float32Array;
  try {
    const points: Points = { mode: "subspace", directions, coefficients, count: total, dim: count };
    means = await meanLosses(model, data, points, range, options.evaluation);
  } finally {
    directions.dispose();
  }
  await requireFiniteLosses(model, means, probeCheck(options, range?.first ?? 0), {
    name: "radius",
    value: maxRadius,
  });
  return means;
}

/** Names probe point `first + r`: w*, or a ray and radius. */
function probeCheck(options: WidthOptions, first: number) {
  const { maxRadius, steps } = settings(options);
  return {
    quantity: "the width probes' mean loss",
    unit: "probe point",
    where: (r: number) => {
      const p = first + r;
      if (p === 0) return "w*";
      const ray = Math.floor((p - 1) / steps), s = (p - 1) % steps;
      return `ray ${ray} at radius ${maxRadius * (s + 1) / steps}`;
    },
  };
}

/** The width from the mean losses at every probe point (`widthCurve`). */
export function widthFromCurve(curve: Float32Array, options: WidthOptions): Width {
  const { rise, maxRadius, steps, rays, total } = settings(options);
  if (curve.length !== total) {
    throw new RangeError(`the width needs ${total} probe losses, got ${curve.length}`);
  }
  requireFinite(curve, { ...probeCheck(options, 0), cause: LOSS_CAUSE });
  const base = curve[0], edge = base + rise;
  let censored = 0;
  const radii = Array.from({ length: rays }, (_, r) => {
    let prevAlpha = 0, prevLoss = base;
    for (let s = 0; s < steps; s++) {
      const alpha = maxRadius * (s + 1) / steps, loss = curve[1 + r * steps + s];
      if (loss >= edge) {
        return prevAlpha + (alpha - prevAlpha) * (edge - prevLoss) / (loss - prevLoss);
      }
      [prevAlpha, prevLoss] = [alpha, loss];
    }
    censored++;
    return maxRadius;
  });
  const mean = radii.reduce((a, b) => a + b, 0) / rays;
  const sd = Math.sqrt(radii.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, rays - 1));
  return { radius: mean, se: sd / Math.sqrt(rays), radii, censored, baseLoss: base, rise };
}

/** Measures the width of the minimum at the model's current parameters. */
export async function landscapeWidth(
  model: Sequential,
  data: EvalData,
  options: WidthOptions,
): Promise<Width> {
  return widthFromCurve(await widthCurve(model, data, options), options);
}
