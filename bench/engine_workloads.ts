/**
 * The engine's side of the benchmark workloads, shared by the `*_bench.ts` suites and
 * `compare.ts`: the paper's models, a 1024^3 matrix product, one training step as the trainer
 * runs it, evaluation, and the loss matrix (fused and materialised). Everything here only
 * records work; callers time it with `gpu.sync()`.
 * @module
 */
import { uploadBatch } from "../src/data/batches.ts";
import type { Dataset } from "../src/data/dataset.ts";
import { synthetic } from "../src/data/synthetic.ts";
import type { Gpu } from "../src/gpu/gpu.ts";
import { lossMatrix, type Points } from "../src/landscape/loss_matrix.ts";
import { lossMatrixMaterialized } from "../src/landscape/materialize.ts";
import { Dense } from "../src/nn/dense.ts";
import type { ForwardContext } from "../src/nn/layer.ts";
import { softmaxCrossEntropy, softmaxCrossEntropyBackward } from "../src/nn/loss.ts";
import { cnn, mlp, type ModelConfig } from "../src/nn/model_config.ts";
import { ParamStore } from "../src/nn/param_store.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { Adam } from "../src/optim/adam.ts";
import { Tensor } from "../src/tensor.ts";

/** The paper's MLP: 4 x 128, Linear -> ReLU -> BatchNorm -> Dropout(0.05), 28x28x1 input. */
export const PAPER_MLP: ModelConfig = mlp({
  inputShape: [1, 28, 28],
  batchNorm: true,
  dropout: 0.05,
});

/**
 * The paper's CNN (the engine's cnn() builder): 4 x (Conv 3x3 pad 1, 64 channels -> ReLU ->
 * BatchNorm), Conv 3x3 pad 0 to 16 channels, Flatten, Linear to 10; 28x28x1 input.
 */
export const PAPER_CNN: ModelConfig = cnn({ inputShape: [1, 28, 28], batchNorm: true });

/** Deterministic values in [-0.5, 0.5). */
export function lcg(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** A synthetic Fashion-MNIST-shaped dataset (28x28x1, 10 classes). */
export function images28(samples: number, seed = 2): Dataset {
  return synthetic({ samples, shape: [1, 28, 28], seed });
}

/** A model with its parameters initialised (seeded). */
export function buildModel(gpu: Gpu, config: ModelConfig, seed = 1): Sequential {
  const model = new Sequential(gpu, config);
  model.initialize(seed);
  return model;
}

/** The engine's matrix product: a dense layer 1023 + bias column -> 1024 on a batch of 1024. */
export class Matmul1024 {
  /** FLOPs of one product (2 x 1024^3). */
  readonly flops = 2 * 1024 ** 3;
  #layer = new Dense(1023, 1024);
  #store: ParamStore;
  #x: Tensor;
  #ctx: ForwardContext;

  /** Allocates and fills the operands. */
  constructor(readonly gpu: Gpu) {
    this.#store = ParamStore.create(gpu, [this.#layer.paramSpecs()]);
    this.#layer.bind(this.#store.bindingsOf(0));
    this.#store.initialize(1);
    this.#x = Tensor.from(gpu, lcg(1024 * 1023, 2), [1, 1024, 1023]);
    this.#ctx = { gpu, training: false, seed: 0, step: 0 };
  }

  /** Records one product. */
  record(): void {
    this.#layer.forward(this.#ctx, this.#x).dispose();
  }

  /** Frees the operands. */
  dispose(): void {
    this.#x.dispose();
    this.#store.dispose();
  }
}

/**
 * One training step exactly as `train()` records it, minus the loss logging: upload of a
 * mini-batch, forward (train mode), softmax cross-entropy, backward, one Adam update.
 */
export class TrainStep {
  /** The model being trained. */
  readonly model: Sequential;
  /** Its optimiser. */
  readonly adam: Adam;
  #data: Dataset;
  #step = 0;

  /** A model of `config` (initialised), Adam with the paper's lr, and `batch`-sized data. */
  constructor(readonly gpu: Gpu, config: ModelConfig, readonly batch = 64) {
    this.model = buildModel(gpu, config, 7);
    this.adam = new Adam(this.model.params.values, this.model.params.grads, { lr: 3e-4 });
    this.#data = images28(4 * batch, 3);
  }

  /** Records one step (the batch rotates through four fixed batches). */
  record(): void {
    const gpu = this.gpu;
    const first = (this.#step % 4) * this.batch;
    const idx = Uint32Array.from({ length: this.batch }, (_, i) => first + i);
    const ctx: ForwardContext = { gpu, training: true, seed: 1, step: this.#step++ };
    const batch = uploadBatch(gpu, this.#data, idx);
    const logits = this.model.forward(ctx, batch.images);
    const { losses, mean } = softmaxCrossEntropy(logits, batch.labels);
    const dlogits = softmaxCrossEntropyBackward(logits, batch.labels);
    this.model.backward(ctx, dlogits);
    this.adam.update();
    for (const t of [batch.images, batch.labels, logits, losses, mean, dlogits]) t.dispose();
  }

  /** Frees the model and the optimiser state. */
  dispose(): void {
    this.adam.dispose();
    this.model.dispose();
  }
}

/** Eval-mode forward of a fixed batch (batch norm with running statistics), with its losses. */
export class Evaluate {
  /** The model. */
  readonly model: Sequential;
  #images: Tensor;
  #labels: Tensor<"u32">;

  /** A model of `config` and one uploaded batch of `batch` images. */
  constructor(readonly gpu: Gpu, config: ModelConfig, readonly batch = 64) {
    this.model = buildModel(gpu, config, 5);
    const b = uploadBatch(
      gpu,
      images28(batch, 4),
      Uint32Array.from({ length: batch }, (_, i) => i),
    );
    this.#images = b.images;
    this.#labels = b.labels;
  }

  /** Records the forward pass and the per-sample losses of the batch. */
  record(): void {
    const ctx: ForwardContext = { gpu: this.gpu, training: false, seed: 0, step: 0 };
    const logits = this.model.forward(ctx, this.#images);
    const { losses, mean } = softmaxCrossEntropy(logits, this.#labels);
    for (const t of [logits, losses, mean]) t.dispose();
  }

  /** Frees the model and the batch. */
  dispose(): void {
    this.#images.dispose();
    this.#labels.dispose();
    this.model.dispose();
  }
}

/** The loss matrix l[t, i] at `points` Gaussian perturbations of a model, on `samples` images. */
export class DeltaMatrix {
  /** The model (w*). */
  readonly model: Sequential;
  /** The evaluation data. */
  readonly data: { dataset: Dataset; loss: "cross-entropy" };
  /** The perturbed points: w* + sigma * eps_t, t < count. */
  readonly points: Points;

  /** A model of `config`, `samples` images and `count` points at sigma. */
  constructor(gpu: Gpu, config: ModelConfig, count: number, samples: number, sigma = 0.01) {
    this.model = buildModel(gpu, config, 11);
    this.data = { dataset: images28(samples, 6), loss: "cross-entropy" };
    this.points = { mode: "full", count, seed: 3, sigma };
  }

  /** The fused evaluation (noise regenerated inside the layer kernels, points batched). */
  async fused(): Promise<void> {
    (await lossMatrix(this.model, this.data, this.points)).dispose();
  }

  /** The slow path: w_t written into the parameters and an ordinary forward per point. */
  async materialized(): Promise<void> {
    (await lossMatrixMaterialized(this.model, this.data, this.points)).dispose();
  }

  /** Frees the model. */
  dispose(): void {
    this.model.dispose();
  }
}
