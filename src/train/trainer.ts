/**
 * The training loop: Adam on mini-batches with cross-entropy, train loss and accuracy per
 * epoch, validation after each epoch, and the parameters of the best validation epoch kept (the
 * paper's w*). Losses stay on the GPU and are read back in batches every `readEvery` steps,
 * where divergence (a NaN or infinite loss, or one that stays far above guessing's) stops
 * training with a DivergenceError, as does a best validation accuracy no better than chance.
 * @module
 */
import { batchIndices, epochOrder, uploadBatch } from "../data/batches.ts";
import { type Dataset, datasetSize } from "../data/dataset.ts";
import { assertModelFits } from "../nn/fits.ts";
import type { ForwardContext } from "../nn/layer.ts";
import { correctCount, softmaxCrossEntropy, softmaxCrossEntropyBackward } from "../nn/loss.ts";
import type { Sequential } from "../nn/sequential.ts";
import { Adam, type AdamOptions } from "../optim/adam.ts";
import { reduceRows } from "../ops/reduce.ts";
import { readTensors, Tensor } from "../tensor.ts";
import { Progress, type ProgressSink, stderrSink } from "./progress.ts";
import { LossWatch, requireAboveChance } from "./divergence.ts";

export { DivergenceError } from "./divergence.ts";

/** Options of {@link train}. */
export interface TrainOptions {
  /** Passes over the training data. */
  epochs: number;
  /** Samples per step (default 64, as the paper); each epoch uses whole batches only. */
  batchSize?: number;
  /** Adam's settings (default: {@link AdamOptions}' defaults, lr 3e-4 as the paper). */
  adam?: AdamOptions;
  /** Seed of the initialisation, the batch order and the dropout masks (default 0). */
  seed?: number;
  /**
   * Data for picking the best epoch; without it (the default) the last epoch is kept. A best accuracy on it
   * no better than chance throws a DivergenceError.
   */
  validation?: Dataset;
  /** Steps between loss readbacks (default 50). */
  readEvery?: number;
  /** Where progress goes (default stderr). */
  progress?: ProgressSink;
  /** Called after every epoch (e.g. to write a checkpoint); default none. */
  onEpoch?: (result: EpochResult, state: { model: Sequential; adam: Adam }) => void | Promise<void>;
  /** Start from the model's current parameters instead of initialising them (default false). */
  keepParameters?: boolean;
  /** Adam state to continue from (resuming); default a fresh optimizer. */
  adamState?: { step: number; m: Float32Array; v: Float32Array };
  /** First epoch to run (resuming), 0-based (default 0). */
  startEpoch?: number;
  /** Stop after this many steps in total (for short checks); default no limit. */
  maxSteps?: number;
  /** Reshuffle the samples every epoch (default true); false keeps the data order. */
  shuffle?: boolean;
}

/** Loss and accuracy on a dataset. */
export interface Evaluation {
  /** Mean cross-entropy per sample. */
  loss: number;
  /** Fraction classified correctly. */
  accuracy: number;
}

/** What one epoch did. */
export interface EpochResult {
  /** 0-based. */
  epoch: number;
  /** Adam steps taken. */
  steps: number;
  /** Mean training loss over the epoch's steps (train mode, as the steps saw it). */
  trainLoss: number;
  /** Training accuracy over the epoch's batches (train mode). */
  trainAccuracy: number;
  /** Validation loss and accuracy after the epoch (eval mode). */
  validation?: Evaluation;
  /** Wall time of the epoch. */
  seconds: number;
}

/** The outcome of training. */
export interface TrainResult {
  /** One entry per epoch run. */
  epochs: EpochResult[];
  /** The epoch whose parameters the model holds now (best validation accuracy). */
  bestEpoch: number;
  /** Training loss of every step. */
  stepLosses: Float32Array;
}

/**
 * Mean cross-entropy and accuracy of `model` on `data` in eval mode (one readback).
 * @param batchSize Samples per forward pass (default 500); the result does not depend on it.
 */
export async function evaluate(
  model: Sequential,
  data: Dataset,
  batchSize?: number,
): Promise<Evaluation> {
  batchSize ??= 500;
  assertModelFits(model, data);
  const gpu = model.gpu;
  const n = datasetSize(data);
  const parts: Tensor<"f32" | "u32">[] = [];
  const ctx: ForwardContext = { gpu, training: false, seed: 0, step: 0 };
  for (const idx of batchIndices(epochOrder(n, 0, 0, false), batchSize)) {
    const batch = uploadBatch(gpu, data, idx);
    const logits = model.forward(ctx, batch.images);
    const { losses, mean } = softmaxCrossEntropy(logits, batch.labels);
    parts.push(reduceRows(losses, "sum"), correctCount(logits, batch.labels));
    for (const t of [batch.images, batch.labels, logits, losses, mean]) t.dispose();
  }
  const values = await readTensors(parts);
  let loss = 0, correct = 0;
  for (let i = 0; i < values.length; i += 2) {
    loss += values[i][0];
    correct += values[i + 1][0];
  }
  for (const t of parts) t.dispose();
  return { loss: loss / n, accuracy: correct / n };
}

/** Trains `model` on `data`; the model ends holding the best-validation parameters. */
export async function train(
  model: Sequential,
  data: Dataset,
  options: TrainOptions,
): Promise<TrainResult> {
  const {
    epochs,
    batchSize = 64,
    seed = 0,
    validation,
    readEvery = 50,
    progress = stderrSink(),
    startEpoch = 0,
    maxSteps = Infinity,
    shuffle = true,
  } = options;
  assertModelFits(model, data);
  if (validation) assertModelFits(model, validation);
  const gpu = model.gpu;
  const n = datasetSize(data);
  const perEpoch = Math.floor(n / batchSize);
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  }
  if (perEpoch < 1) {
    throw new RangeError(`${n} training samples do not fill one batch of ${batchSize}`);
  }
  if (!options.keepParameters) model.initialize(seed);
  const adam = new Adam(model.params.values, model.params.grads, options.adam);
  if (options.adamState) {
    adam.restore(options.adamState.step, options.adamState.m, options.adamState.v);
  }
  const lossLog = Tensor.zeros(gpu, [readEvery]);
  const correctLog = Tensor.zeros(gpu, [readEvery], "u32");
  const best = {
    values: Tensor.empty(gpu, model.params.values.shape),
    stats: Tensor.empty(gpu, model.params.stats.shape),
  };
  const saveBest = () => {
    gpu.copy(model.params.values, best.values);
    gpu.copy(model.params.stats, best.stats);
  };
  const results: EpochResult[] = [];
  const stepLosses: number[] = [];
  let bestEpoch = -1, bestScore = [-Infinity, -Infinity];
  let step = adam.step;
  const watch = new LossWatch(data.classes, adam.options.lr);
  try {
    for (let epoch = startEpoch; epoch < epochs && stepLosses.length < maxSteps; epoch++) {
      const bar = new Progress(`epoch ${epoch + 1}/${epochs}`, perEpoch, "steps", progress);
      let lossSum = 0, correctSum = 0, pending = 0, done = 0;
      const drain = async () => {
        const [losses, correct] = await readTensors([lossLog, correctLog]);
        for (let i = 0; i < pending; i++) {
          watch.observe(epoch, step - pending + i, losses[i]);
          lossSum += losses[i];
          correctSum += correct[i];
          stepLosses.push(losses[i]);
        }
        done += pending;
        pending = 0;
        bar.update(done, `loss ${(lossSum / Math.max(done, 1)).toFixed(4)}`);
      };
      const order = epochOrder(n, seed, epoch, shuffle);
      for (const idx of batchIndices(order, batchSize, true)) {
        if (stepLosses.length + pending >= maxSteps) break;
        const ctx: ForwardContext = { gpu, training: true, seed, step };
        const batch = uploadBatch(gpu, data, idx);
        const logits = model.forward(ctx, batch.images);
        const { losses, mean } = softmaxCrossEntropy(logits, batch.labels);
        const correct = correctCount(logits, batch.labels);
        const dlogits = softmaxCrossEntropyBackward(logits, batch.labels);
        model.backward(ctx, dlogits);
        adam.update();
        gpu.copy(mean, lossLog.view([1], pending));
        gpu.copy(correct, correctLog.view([1], pending));
        for (const t of [batch.images, batch.labels, logits, losses, mean, correct, dlogits]) {
          t.dispose();
        }
        step++;
        if (++pending === readEvery) await drain();
      }
      if (pending > 0) await drain();
      const result: EpochResult = {
        epoch,
        steps: done,
        trainLoss: lossSum / Math.max(done, 1),
        trainAccuracy: correctSum / Math.max(done * batchSize, 1),
        seconds: bar.elapsed,
      };
      if (validation) result.validation = await evaluate(model, validation);
      const score = result.validation
        ? [result.validation.accuracy, -result.validation.loss]
        : [epoch, 0];
      if (score[0] > bestScore[0] || (score[0] === bestScore[0] && score[1] > bestScore[1])) {
        bestScore = score;
        bestEpoch = epoch;
        saveBest();
      }
      const v = result.validation;
      bar.finish(
        `train loss ${result.trainLoss.toFixed(4)}, accuracy ${
          (100 * result.trainAccuracy).toFixed(2)
        }%` +
          (v
            ? `; validation loss ${v.loss.toFixed(4)}, accuracy ${(100 * v.accuracy).toFixed(2)}%`
            : ""),
      );
      results.push(result);
      await options.onEpoch?.(result, { model, adam });
    }
    if (bestEpoch >= 0) {
      gpu.copy(best.values, model.params.values);
      gpu.copy(best.stats, model.params.stats);
      await gpu.flush();
    }
    if (validation && bestEpoch >= 0) {
      requireAboveChance(bestScore[0], datasetSize(validation), validation.classes, {
        epochs: results[results.length - 1].epoch + 1,
        lr: adam.options.lr,
      });
    }
    return { epochs: results, bestEpoch, stepLosses: Float32Array.from(stepLosses) };
  } finally {
    for (const t of [lossLog, correctLog, best.values, best.stats]) t.dispose();
    adam.dispose();
  }
}
