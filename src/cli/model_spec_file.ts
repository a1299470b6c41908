/**
 * --model-spec: reads a model spec file and checks it against the data it is used with.
 * @module
 */
import type { Dataset } from "../data/dataset.ts";
import type { ModelConfig } from "../nn/model_config.ts";
import { modelClasses, ModelSpecError, parseModelSpec } from "../nn/model_spec.ts";
import { readInputText } from "../read_input.ts";

/** --model-spec's option text. */
export const MODEL_SPEC_HELP =
  "JSON model spec (inputShape, classes, layers; see README) instead of --model and its sizes";

/** The model in spec file `file`; a missing or unreadable file is an error naming it. */
export async function readModelSpec(file: string): Promise<ModelConfig> {
  const text = await readInputText(file, {
    missing: "model spec not found",
    error: (reason) => new ModelSpecError(file, reason),
  });
  return parseModelSpec(text, file);
}

/** Refuses a model whose input shape or class count does not fit `data`; `file` names it. */
export function checkModelFitsData(file: string, model: ModelConfig, data: Dataset): void {
  if (model.inputShape.join() !== data.shape.join()) {
    throw new ModelSpecError(
      file,
      `the model takes [${model.inputShape}] inputs, the data ${data.name} gives [${data.shape}]; ` +
        `change "inputShape" or the data`,
    );
  }
  const classes = modelClasses(model);
  if (classes < data.classes) {
    throw new ModelSpecError(
      file,
      `"classes" is ${classes}, the data ${data.name} has labels up to ${data.classes - 1}`,
    );
  }
}
