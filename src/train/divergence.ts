/**
 * When training has failed, so that nothing downstream measures a broken model: a NaN or
 * infinite loss; a loss that stays far above ln(classes), the loss of guessing uniformly,
 * which every untrained classifier starts near (the median over a window of steps, so one
 * spike does not count); or, after training, a validation accuracy that guessing explains.
 * @module
 */

/** Which rule found the divergence. */
export type DivergenceKind = "non-finite loss" | "exploding loss" | "chance accuracy";

/** Thrown when training diverges or ends no better than guessing. */
export class DivergenceError extends Error {
  /**
   * `value`: the loss that diverged (the window's median for "exploding loss"), or the
   * validation accuracy for "chance accuracy"; `epoch` and `step` are 0-based (steps counted
   * over all epochs), where the rule fired; for "chance accuracy", the last epoch trained and
   * step -1 (the finished model was judged, not a step).
   */
  constructor(
    readonly kind: DivergenceKind,
    message: string,
    readonly epoch: number,
    readonly step: number,
    readonly value: number,
  ) {
    super(message);
    this.name = "DivergenceError";
  }
}

/** Steps whose median loss is checked. */
export const LOSS_WINDOW = 20;
/** The median loss of a window may not exceed this many times ln(classes). */
export const LOSS_FACTOR = 10;
/** Standard errors above chance that a trained model's accuracy must reach. */
export const CHANCE_MARGIN = 3;

const FIX = "lower the learning rate or check the input data";

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Watches the training loss step by step and throws when it diverges. */
export class LossWatch {
  private readonly recent: number[] = [];
  private readonly limit: number;

  /** A watch for a classifier of `classes` classes trained at learning rate `lr`. */
  constructor(readonly classes: number, readonly lr: number) {
    this.limit = LOSS_FACTOR * Math.log(classes);
  }

  /** Records the loss of `step` (0-based over all epochs) in `epoch`. */
  observe(epoch: number, step: number, loss: number): void {
    const at = `at epoch ${epoch + 1}, step ${step + 1} (learning rate ${this.lr})`;
    if (!Number.isFinite(loss)) {
      throw new DivergenceError(
        "non-finite loss",
        `training diverged: loss ${loss} ${at}; ${FIX}`,
        epoch,
        step,
        loss,
      );
    }
    this.recent.push(loss);
    if (this.recent.length > LOSS_WINDOW) this.recent.shift();
    if (this.recent.length < LOSS_WINDOW) return;
    const m = median(this.recent);
    if (m <= this.limit) return;
    throw new DivergenceError(
      "exploding loss",
      `training diverged: the median loss over the last ${LOSS_WINDOW} steps, ` +
        `${m.toPrecision(3)}, is above ${this.limit.toFixed(2)} = ${LOSS_FACTOR} x ` +
        `ln(${this.classes}) (ln(${this.classes}) is the loss of guessing) ${at}; ${FIX}`,
      epoch,
      step,
      m,
    );
  }
}

/**
 * The accuracy a model must exceed on `samples` samples of `classes` classes to count as
 * better than guessing: chance plus CHANCE_MARGIN standard errors of a guesser's accuracy.
 * Above 1 when the samples are too few to tell.
 */
export function chanceLimit(samples: number, classes: number): number {
  const p = 1 / classes;
  return p + CHANCE_MARGIN * Math.sqrt(p * (1 - p) / samples);
}

/**
 * Throws a DivergenceError when a trained model's validation `accuracy` on `samples` samples
 * is no better than guessing among `classes` (skipped when the samples are too few to tell).
 */
export function requireAboveChance(
  accuracy: number,
  samples: number,
  classes: number,
  trained: { epochs: number; lr: number },
): void {
  const limit = chanceLimit(samples, classes);
  if (limit >= 1 || accuracy > limit) return;
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  throw new DivergenceError(
    "chance accuracy",
    `training ended at chance accuracy: the best validation accuracy, ${pct(accuracy)} on ` +
      `${samples} samples, is not above ${pct(limit)} (guessing among ${classes} classes ` +
      `scores ${pct(1 / classes)}; ${CHANCE_MARGIN} standard errors more) after ` +
      `${trained.epochs} epochs (learning rate ${trained.lr}); lower the learning rate, train ` +
      "longer, or check the labels",
    trained.epochs - 1,
    -1,
    accuracy,
  );
}
