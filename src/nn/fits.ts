/**
 * Whether a model fits its data, checked before any work: a wrong input shape otherwise fails
 * deep inside a kernel, a wrong class count trains into a "diverged" loss, and a model that was
 * never given parameters measures the landscape of all-zero weights.
 * @module
 */
import type { Dataset } from "../data/dataset.ts";
import type { Sequential } from "./sequential.ts";

/** Thrown when a model does not fit its data or has no parameters yet; the message says which. */
export class ModelDataError extends Error {
  /** An error with the given message. */
  constructor(message: string) {
    super(message);
    this.name = "ModelDataError";
  }
}

/**
 * Throws unless `model` takes `data`'s samples and has one output per class (or, with
 * squared-error `targets` [n, outputs], one per target value).
 */
export function assertModelFits(model: Sequential, data: Dataset, targets?: Float32Array): void {
  const named = `model "${model.config.name}"`;
  const input = model.config.inputShape;
  if (input.join() !== data.shape.join()) {
    throw new ModelDataError(
      `${named} takes inputs [${input}] but ${data.name} has samples [${data.shape}]; ` +
        `build it with inputShape [${data.shape}]`,
    );
  }
  const out = model.outputShape;
  const outputs = out.length === 1 ? `${out[0]} outputs` : `outputs [${out}]`;
  if (targets) {
    const width = targets.length / data.labels.length;
    if (out.length !== 1 || out[0] !== width) {
      throw new ModelDataError(
        `${named} has ${outputs} but ${data.name} has ${width} targets per sample`,
      );
    }
  } else if (out.length !== 1 || out[0] !== data.classes) {
    throw new ModelDataError(
      `${named} has ${outputs} but ${data.name} has ${data.classes} classes; ` +
        `build it with classes: ${data.classes}`,
    );
  }
}

/** Throws unless `model`'s parameters were initialised, trained, loaded or written. */
export async function assertHasParameters(model: Sequential): Promise<void> {
  if (await model.params.assigned()) return;
  throw new ModelDataError(
    `model "${model.config.name}" has no parameters yet (never initialised or loaded): ` +
      "call model.initialize(seed), train it, or load a checkpoint",
  );
}

/** Both checks: what every landscape and Δk estimator asks of its model and data. */
export async function assertReadyFor(
  model: Sequential,
  data: Dataset,
  targets?: Float32Array,
): Promise<void> {
  assertModelFits(model, data, targets);
  await assertHasParameters(model);
}
