/**
 * The engine's side of bench:compare's equal-accuracy Δk rows (workload `delta_se`): the paper's
 * MLP trained briefly on the Fashion-MNIST training images found (the shipped subset unless the
 * full set is installed), so that w* is a real optimum; the first `samples` images of a seeded
 * order; and the same w* and images written for PyTorch (bench/torch_bench.py's `delta_se`
 * workload) as one safetensors file: the model's checkpoint tensors (PyTorch state-dict keys)
 * plus `x` [n, 1, 28, 28] and `y` [n]. Both sides return loss matrices [points, n] and the
 * losses at w*, and the landscape term's standard error is computed from them by the same
 * host code (equal_accuracy.ts, delta.ts).
 * @module
 */
import type { Dataset } from "../src/data/dataset.ts";
import { loadFashionMnist } from "../src/data/fashion_mnist_files.ts";
import type { Gpu } from "../src/gpu/gpu.ts";
import { curveFromDifferences, type DeltaCurve } from "../src/landscape/delta.ts";
import { sampleOrder } from "../src/landscape/estimate.ts";
import { type EvalData, lossMatrix, type Points } from "../src/landscape/loss_matrix.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { checkpointBytes } from "../src/train/checkpoint.ts";
import { quietSink } from "../src/train/progress.ts";
import { decodeSafetensors, encodeSafetensors } from "../src/train/safetensors.ts";
import { train } from "../src/train/trainer.ts";
import { lossDifferences } from "./equal_accuracy.ts";
import { PAPER_MLP } from "./engine_workloads.ts";

/** Sizes of the comparison. */
export interface DeltaSeOptions {
  /** Points of each pilot and timed unit (antithetic: points / 2 pairs). */
  points: number;
  /** Samples n = K + 1 (k runs up to n; Δ_11 and Δ_101 need n >= 101). */
  samples: number;
  /** Training epochs of w*. */
  epochs: number;
  /** Seed of the training, the sample order and the noise. */
  seed: number;
}

/** A trained paper MLP, its evaluation samples, and the file that hands both to PyTorch. */
export class DeltaSeSetup {
  /** Images the model was trained on (for the table). */
  readonly trainImages: number;
  /** Where the training images came from. */
  readonly dataDir: string;
  /** The MLP at w*. */
  readonly model: Sequential;
  /** The evaluation samples. */
  readonly data: EvalData & { dataset: Dataset };

  private constructor(
    model: Sequential,
    data: EvalData & { dataset: Dataset },
    trainImages: number,
    dataDir: string,
    readonly options: DeltaSeOptions,
  ) {
    this.model = model;
    this.data = data;
    this.trainImages = trainImages;
    this.dataDir = dataDir;
  }

  /** Trains the model and picks the samples. */
  static async create(gpu: Gpu, options: DeltaSeOptions): Promise<DeltaSeSetup> {
    const { train: images, dir } = await loadFashionMnist();
    const model = new Sequential(gpu, PAPER_MLP);
    await train(model, images, { epochs: options.epochs, seed: options.seed, progress: quietSink });
    const dataset = sampleOrder(images, options.samples, options.seed);
    return new DeltaSeSetup(
      model,
      { dataset, loss: "cross-entropy" },
      images.labels.length,
      dir,
      options,
    );
  }

  /** w* (PyTorch state-dict keys) and the samples as `x` and `y`, in safetensors bytes. */
  async exchangeBytes(): Promise<Uint8Array> {
    const { tensors } = decodeSafetensors("checkpoint", await checkpointBytes(this.model));
    const { images, labels, shape } = this.data.dataset;
    tensors.x = { shape: [labels.length, ...shape], data: images };
    tensors.y = { shape: [labels.length], data: Float32Array.from(labels) };
    return encodeSafetensors(tensors);
  }

  /** The engine's points at `sigma`: antithetic pairs w* ± σε_p. */
  points(sigma: number): Points {
    const { points, seed } = this.options;
    return { mode: "full", count: points, seed, sigma, antithetic: true };
  }

  /** The loss matrix at `sigma` (timed by the caller; freed here). */
  async evaluate(sigma: number): Promise<void> {
    (await lossMatrix(this.model, this.data, this.points(sigma))).dispose();
  }

  /** The pilot: the Δk curve of one loss matrix at `sigma`, with its terms. */
  async pilot(sigma: number): Promise<DeltaCurve> {
    const read = async (p: Points) => {
      const l = await lossMatrix(this.model, this.data, p);
      try {
        return await l.read();
      } finally {
        l.dispose();
      }
    };
    const n = this.options.samples, points = this.options.points;
    const losses = await read(this.points(sigma));
    const center = await read({ mode: "center" });
    return curveFromDifferences(lossDifferences(losses, points, n), points, {
      estimator: "antithetic",
      center: lossDifferences(center, 1, n),
    });
  }

  /** Frees the model. */
  dispose(): void {
    this.model.dispose();
  }
}

/** PyTorch's pilot, from its losses [points, n] and at w* [n]: plain Monte Carlo. */
export function torchPilot(losses: number[], center: number[], points: number): DeltaCurve {
  const n = center.length;
  return curveFromDifferences(lossDifferences(losses, points, n), points, {
    center: lossDifferences(center, 1, n),
  });
}
