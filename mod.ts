/**
 * landscape: train small image classifiers on WebGPU and measure how their loss landscape
 * converges as the dataset grows (Δₖ, its rate k⁻ᵖ and the sample size where it is reached).
 * This is the research API; the engine's building blocks (tensor ops, kernels, buffer pools,
 * GEMM cores, Δk from a loss matrix) are in `./kernels`, file reading and writing (Deno only) in
 * `./files`, and the file formats as bytes (.npy, CSV, IDX, model specs) in `./formats`.
 *
 * ```ts
 * import { Gpu, mlp, Sequential, synthetic, train } from "./mod.ts";
 * const gpu = await Gpu.create();
 * const data = synthetic({ samples: 512, shape: [1, 8, 8] });
 * const model = new Sequential(gpu, mlp({ inputShape: [1, 8, 8], hidden: 32, layers: 2 }));
 * await train(model, data, { epochs: 1 });
 * ```
 * @module
 */

// The device
export { Gpu, GpuError, NoAdapterError } from "./src/gpu/gpu.ts";
export type { GpuOptions } from "./src/gpu/gpu.ts";
export { Tensor } from "./src/tensor.ts";

// Models and layers
export { cnn, mlp } from "./src/nn/model_config.ts";
export type { CnnOptions, LayerSpec, MlpOptions, ModelConfig } from "./src/nn/model_config.ts";
export { Sequential } from "./src/nn/sequential.ts";

// Training and evaluation
export { DivergenceError, evaluate, train } from "./src/train/trainer.ts";
export type { EpochResult, Evaluation, TrainOptions, TrainResult } from "./src/train/trainer.ts";
export type { AdamOptions } from "./src/optim/adam.ts";
export type { ProgressSink } from "./src/train/progress.ts";

// Data
export { DataError, head, holdOut, select } from "./src/data/dataset.ts";
export type { Dataset } from "./src/data/dataset.ts";
export { synthetic } from "./src/data/synthetic.ts";
export type { SyntheticOptions } from "./src/data/synthetic.ts";

// Checkpoints (bytes; ./files reads and writes them)
export { checkpointBytes, checkpointFromBytes } from "./src/train/checkpoint.ts";
export type { CheckpointSource, ExpectedModel, LoadedCheckpoint } from "./src/train/checkpoint.ts";

// Δk, its rate and sufficiency
export { estimateDelta } from "./src/landscape/estimate.ts";
export type { EstimateOptions } from "./src/landscape/estimate.ts";
export type { DeltaCurve, DeltaOptions, DeltaTerms } from "./src/landscape/delta.ts";
export { fitRate, rateSensitivity } from "./src/landscape/rate.ts";
export type { RateFit, RateOptions, RateVariant } from "./src/landscape/rate.ts";
export { dominantTerm, termMeans } from "./src/landscape/level.ts";
export type { TermMeanOptions, TermMeans } from "./src/landscape/level.ts";
export { sigmaScaling } from "./src/landscape/sigma_scaling.ts";
export type { PowerFit, SigmaLevel, SigmaScaling } from "./src/landscape/sigma_scaling.ts";
export { sufficiency } from "./src/landscape/sufficiency.ts";
export type { Sufficiency, SufficiencyOptions } from "./src/landscape/sufficiency.ts";

// Landscapes around a trained model
export { lossSurface } from "./src/landscape/grid.ts";
export type { GridOptions, GridValues } from "./src/landscape/grid.ts";
export { landscapeWidth } from "./src/landscape/width.ts";
export type { Width, WidthOptions } from "./src/landscape/width.ts";
