/**
 * Non-finite numbers are never results: a NaN or an infinity in a loss matrix, a Δk curve, a
 * landscape grid or a width probe means the losses overflowed float32 (a perturbation too
 * large) or the model itself is broken, and everything computed from it would be meaningless.
 * Every place that reads such values back checks them here and throws one named error that
 * says which quantity, at which points, and the likely cause.
 * @module
 */
import type { Sequential } from "../nn/sequential.ts";
import { readTensors } from "../tensor.ts";

/** Thrown when a computed quantity holds NaN or ±Infinity. */
export class NonFiniteError extends Error {
  /**
   * `rows` lists the offending rows (points) by index, in order; `total` is the number of
   * rows checked.
   */
  constructor(
    message: string,
    readonly quantity: string,
    readonly rows: number[],
    readonly total: number,
  ) {
    super(message);
    this.name = "NonFiniteError";
  }
}

/** What a checked array holds, for the error message. */
export interface FiniteCheck {
  /** The quantity, e.g. "the landscape's mean loss". */
  quantity: string;
  /** What one row of values belongs to, e.g. "grid point" (pluralised with "s"). */
  unit: string;
  /** Names row `row`, whose first non-finite value is in column `column`. */
  where(row: number, column: number): string;
  /** The likely cause and what to change. */
  cause: string;
  /** Values per row (default 1). */
  rowLength?: number;
}

/** Rows named in a message; the count covers the rest. */
const NAMED = 3;

/** The cause to name when all that is known is that losses were not finite. */
export const LOSS_CAUSE = "the losses overflowed float32 (a perturbation too large) or the " +
  "model's parameters are not finite";

/** Throws a {@link NonFiniteError} unless every value is finite. */
export function requireFinite(values: ArrayLike<number>, check: FiniteCheck): void {
  const m = check.rowLength ?? 1;
  const total = Math.ceil(values.length / m);
  const rows: number[] = [];
  const named: string[] = [];
  for (let r = 0; r < total; r++) {
    for (let c = 0; c < m && r * m + c < values.length; c++) {
      const v = values[r * m + c];
      if (Number.isFinite(v)) continue;
      rows.push(r);
      if (named.length < NAMED) named.push(`${check.where(r, c)}: ${v}`);
      break;
    }
  }
  if (rows.length === 0) return;
  const more = rows.length > NAMED ? `, and ${rows.length - NAMED} more` : "";
  throw new NonFiniteError(
    `${check.quantity} is not finite at ${rows.length} of ${total} ${check.unit}s ` +
      `(${named.join("; ")}${more}): ${check.cause}`,
    check.quantity,
    rows,
    total,
  );
}

/** Non-finite values among the model's trainable parameters and running statistics. */
async function brokenParameters(model: Sequential): Promise<number> {
  const [values, stats] = await readTensors([model.params.values, model.params.stats]);
  let bad = 0;
  for (const a of [values, stats]) for (const v of a) if (!Number.isFinite(v)) bad++;
  return bad;
}

/**
 * Throws a {@link NonFiniteError} unless every loss (or value computed from losses at
 * perturbed points) is finite. The cause it names is read from the model: non-finite
 * parameters, or else the perturbation (e.g. sigma = 1e30; none for losses at w*) is too large.
 */
export async function requireFiniteLosses(
  model: Sequential,
  values: ArrayLike<number>,
  check: Omit<FiniteCheck, "cause">,
  perturbation?: { name: string; value: unknown },
): Promise<void> {
  if (Array.prototype.every.call(values, Number.isFinite)) return;
  const bad = await brokenParameters(model);
  const cause = bad > 0
    ? `the model has ${bad} non-finite parameters (NaN or infinite weights); ` +
      "retrain it or load another checkpoint"
    : perturbation
    ? `${perturbation.name} ${perturbation.value} moves the weights so far from w* that the ` +
      `loss overflows float32; use a smaller ${perturbation.name}`
    : "the model's outputs overflow float32 at its own weights (weights far too large) or a " +
      "label lies outside its classes; retrain it or check the data";
  requireFinite(values, { ...check, cause });
}
