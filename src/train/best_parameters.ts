/**
 * The parameters of the best epoch so far (the paper's w*): a copy on the GPU, replaced when
 * an epoch scores higher, and put back into the model when training ends.
 * @module
 */
import type { Sequential } from "../nn/sequential.ts";
import { Tensor } from "../tensor.ts";

/** An epoch's score: compared first by [0], ties broken by [1] (higher is better). */
export type EpochScore = readonly [number, number];

/** The best epoch's parameters and batch-norm statistics. */
export class BestParameters implements Disposable {
  /** The best epoch so far, or -1 before any. */
  epoch = -1;
  /** Its score. */
  score: EpochScore = [-Infinity, -Infinity];
  readonly #values: Tensor;
  readonly #stats: Tensor;

  /** Room for a copy of `model`'s parameters. */
  constructor(readonly model: Sequential) {
    this.#values = Tensor.empty(model.gpu, model.params.values.shape);
    this.#stats = Tensor.empty(model.gpu, model.params.stats.shape);
  }

  /** Copies the model's parameters when `score` beats the best so far. */
  consider(epoch: number, score: EpochScore): void {
    const [a, b] = score, [bestA, bestB] = this.score;
    if (!(a > bestA || (a === bestA && b > bestB))) return;
    this.score = score;
    this.epoch = epoch;
    this.model.gpu.copy(this.model.params.values, this.#values);
    this.model.gpu.copy(this.model.params.stats, this.#stats);
  }

  /** Puts the best epoch's parameters back into the model (when there was one). */
  async restore(): Promise<void> {
    if (this.epoch < 0) return;
    this.model.gpu.copy(this.#values, this.model.params.values);
    this.model.gpu.copy(this.#stats, this.model.params.stats);
    await this.model.gpu.flush();
  }

  /** Frees the copy. */
  [Symbol.dispose](): void {
    this.#values.dispose();
    this.#stats.dispose();
  }
}
