/**
 * Each training step's mean loss and correct count, kept on the GPU and read back for many
 * steps at once, so that training waits for the GPU once every `capacity` steps, not each step.
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import { readTensors, Tensor } from "../tensor.ts";

/** The steps logged since the last read. */
export class StepLog implements Disposable {
  readonly #losses: Tensor;
  readonly #correct: Tensor<"u32">;
  #pending = 0;

  /** A log of up to `capacity` steps on `gpu`. */
  constructor(readonly gpu: Gpu, readonly capacity: number) {
    this.#losses = Tensor.zeros(gpu, [capacity]);
    this.#correct = Tensor.zeros(gpu, [capacity], "u32");
  }

  /** Steps recorded and not read yet. */
  get pending(): number {
    return this.#pending;
  }

  /** Records a step's mean loss [1] and correct count [1]; true when the log is full. */
  record(mean: Tensor, correct: Tensor<"u32">): boolean {
    this.gpu.copy(mean, this.#losses.view([1], this.#pending));
    this.gpu.copy(correct, this.#correct.view([1], this.#pending));
    return ++this.#pending === this.capacity;
  }

  /** The pending steps' losses and correct counts (one readback); empties the log. */
  async read(): Promise<{ losses: Float32Array; correct: Uint32Array }> {
    const [losses, correct] = await readTensors([this.#losses, this.#correct]);
    const count = this.#pending;
    this.#pending = 0;
    return {
      losses: Float32Array.from(losses.subarray(0, count)),
      correct: Uint32Array.from(correct.subarray(0, count)),
    };
  }

  /** Frees the GPU storage. */
  [Symbol.dispose](): void {
    this.#losses.dispose();
    this.#correct.dispose();
  }
}
