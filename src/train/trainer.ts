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
import { readTensors, type Tensor } from "../tensor.ts";
import { BestParameters } from "./best_parameters.ts";
import { StepLog } from "./step_log.ts";
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

/** TrainOptions with their defaults, checked against the data. */
interface TrainSettings {
  epochs: number;
  batchSize: number;
  seed: number;
  readEvery: number;
  progress: ProgressSink;
  startEpoch: number;
  maxSteps: number;
  shuffle: boolean;
  /** Whole batches per epoch. */
  perEpoch: number;
}

function trainSettings(data: Dataset, options: TrainOptions): TrainSettings {
  const {
    epochs,
    batchSize = 64,
    seed = 0,
    readEvery = 50,
    progress = stderrSink(),
    startEpoch = 0,
    maxSteps = Infinity,
    shuffle = true,
  } = options;
  const n = datasetSize(data);
  const perEpoch = Math.floor(n / batchSize);
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  }
  if (perEpoch < 1) {
    throw new RangeError(`${n} training samples do not fill one batch of ${batchSize}`);
  }
  return { epochs, batchSize, seed, readEvery, progress, startEpoch, maxSteps, shuffle, perEpoch };
}

/** Records one Adam step on the samples `indices`, logging its loss and correct count. */
function recordStep(
  model: Sequential,
  adam: Adam,
  data: Dataset,
  indices: Uint32Array,
  seed: number,
  log: StepLog,
): boolean {
  const gpu = model.gpu;
  const ctx: ForwardContext = { gpu, training: true, seed, step: adam.step };
  const batch = uploadBatch(gpu, data, indices);
  const logits = model.forward(ctx, batch.images);
  const { losses, mean } = softmaxCrossEntropy(logits, batch.labels);
  const correct = correctCount(logits, batch.labels);
  const dlogits = softmaxCrossEntropyBackward(logits, batch.labels);
  model.backward(ctx, dlogits);
  adam.update();
  const full = log.record(mean, correct);
  for (const t of [batch.images, batch.labels, logits, losses, mean, correct, dlogits]) {
    t.dispose();
  }
  return full;
}

/** What the epochs share: the model, its optimizer, the data and the logs. */
interface TrainRun {
  model: Sequential;
  adam: Adam;
  data: Dataset;
  o: TrainSettings;
  log: StepLog;
  watch: LossWatch;
  /** Training loss of every step so far. */
  stepLosses: number[];
}

/** Runs one epoch's steps (up to maxSteps in all); its bar is left open for the validation. */
async function runEpoch(run: TrainRun, epoch: number): Promise<[EpochResult, Progress]> {
  const { model, adam, data, o, log, watch, stepLosses } = run;
  const bar = new Progress(`epoch ${epoch + 1}/${o.epochs}`, o.perEpoch, "steps", o.progress);
  let lossSum = 0, correctSum = 0, done = 0;
  const drain = async () => {
    const first = adam.step - log.pending;
    const { losses, correct } = await log.read();
    losses.forEach((loss, i) => {
      watch.observe(epoch, first + i, loss);
      lossSum += loss;
      correctSum += correct[i];
      stepLosses.push(loss);
    });
    done += losses.length;
    bar.update(done, `loss ${(lossSum / Math.max(done, 1)).toFixed(4)}`);
  };
  const order = epochOrder(datasetSize(data), o.seed, epoch, o.shuffle);
  for (const indices of batchIndices(order, o.batchSize, true)) {
    if (stepLosses.length + log.pending >= o.maxSteps) break;
    if (recordStep(model, adam, data, indices, o.seed, log)) await drain();
  }
  if (log.pending > 0) await drain();
  const result: EpochResult = {
    epoch,
    steps: done,
    trainLoss: lossSum / Math.max(done, 1),
    trainAccuracy: correctSum / Math.max(done * o.batchSize, 1),
    seconds: bar.elapsed,
  };
  return [result, bar];
}

/** The line that closes an epoch's progress bar. */
function epochSummary(result: EpochResult): string {
  const percent = (x: number) => `${(100 * x).toFixed(2)}%`;
  const v = result.validation;
  return `train loss ${result.trainLoss.toFixed(4)}, accuracy ${percent(result.trainAccuracy)}` +
    (v ? `; validation loss ${v.loss.toFixed(4)}, accuracy ${percent(v.accuracy)}` : "");
}

/** Trains `model` on `data`; the model ends holding the best-validation parameters. */
export async function train(
  model: Sequential,
  data: Dataset,
  options: TrainOptions,
): Promise<TrainResult> {
  const { validation } = options;
  assertModelFits(model, data);
  if (validation) assertModelFits(model, validation);
  const o = trainSettings(data, options);
  if (!options.keepParameters) model.initialize(o.seed);
  const adam = new Adam(model.params.values, model.params.grads, options.adam);
  if (options.adamState) {
    adam.restore(options.adamState.step, options.adamState.m, options.adamState.v);
  }
  using log = new StepLog(model.gpu, o.readEvery);
  using best = new BestParameters(model);
  const watch = new LossWatch(data.classes, adam.options.lr);
  const run: TrainRun = { model, adam, data, o, log, watch, stepLosses: [] };
  const results: EpochResult[] = [];
  try {
    for (
      let epoch = o.startEpoch;
      epoch < o.epochs && run.stepLosses.length < o.maxSteps;
      epoch++
    ) {
      const [result, bar] = await runEpoch(run, epoch);
      if (validation) result.validation = await evaluate(model, validation);
      // Without validation the last epoch is the best.
      const v = result.validation;
      best.consider(epoch, v ? [v.accuracy, -v.loss] : [epoch, 0]);
      bar.finish(epochSummary(result));
      results.push(result);
      await options.onEpoch?.(result, { model, adam });
    }
    await best.restore();
    if (validation && best.epoch >= 0) {
      requireAboveChance(best.score[0], datasetSize(validation), validation.classes, {
        epochs: results[results.length - 1].epoch + 1,
        lr: adam.options.lr,
      });
    }
    return {
      epochs: results,
      bestEpoch: best.epoch,
      stepLosses: Float32Array.from(run.stepLosses),
    };
  } finally {
    adam.dispose();
  }
}
