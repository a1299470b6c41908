/**
 * Each sample's cross-entropy and predicted class under a model in eval mode: the l_i at w*
 * that Δk averages, one per sample, without perturbing anything.
 * @module
 */
import { batchIndices, epochOrder, uploadBatch } from "../data/batches.ts";
import { type Dataset, datasetSize } from "../data/dataset.ts";
import { assertModelFits } from "../nn/fits.ts";
import type { ForwardContext } from "../nn/layer.ts";
import { softmaxCrossEntropy } from "../nn/loss.ts";
import type { Sequential } from "../nn/sequential.ts";
import { readTensors, type Tensor } from "../tensor.ts";

/** Per-sample results of {@link sampleLosses}, in the dataset's order. */
export interface SampleLosses {
  /** Cross-entropy of each sample. */
  losses: Float32Array;
  /** Predicted class: the argmax of the logits, the lowest index among ties. */
  predictions: Uint32Array;
}

/** The loss and prediction of every sample of `data` under `model` (eval mode, one readback). */
export async function sampleLosses(
  model: Sequential,
  data: Dataset,
  batchSize = 500,
): Promise<SampleLosses> {
  assertModelFits(model, data);
  const gpu = model.gpu;
  const n = datasetSize(data);
  const ctx: ForwardContext = { gpu, training: false, seed: 0, step: 0 };
  const parts: Tensor[] = [];
  for (const idx of batchIndices(epochOrder(n, 0, 0, false), batchSize)) {
    const batch = uploadBatch(gpu, data, idx);
    const logits = model.forward(ctx, batch.images);
    const { losses, mean } = softmaxCrossEntropy(logits, batch.labels);
    parts.push(losses, logits);
    for (const t of [batch.images, batch.labels, mean]) t.dispose();
  }
  const values = await readTensors(parts);
  for (const t of parts) t.dispose();
  const losses = new Float32Array(n), predictions = new Uint32Array(n);
  let at = 0;
  for (let p = 0; p < values.length; p += 2) {
    const batchLosses = values[p], logits = values[p + 1];
    const classes = logits.length / batchLosses.length;
    for (let b = 0; b < batchLosses.length; b++, at++) {
      losses[at] = batchLosses[b];
      let best = 0;
      for (let c = 1; c < classes; c++) {
        if (logits[b * classes + c] > logits[b * classes + best]) best = c;
      }
      predictions[at] = best;
    }
  }
  return { losses, predictions };
}
