/**
 * landscape: a WebGPU compute engine, written from scratch in WGSL and TypeScript, that trains
 * image classifiers and measures how their loss landscape converges as the dataset grows.
 *
 * ```ts
 * import { Gpu, Tensor, normal, sum } from "./mod.ts";
 * const gpu = await Gpu.create();
 * const x = normal(gpu, [1024], { seed: 1 });
 * const [total] = await sum(x).read();
 * ```
 * @module
 */

export { Gpu, GpuError, NoAdapterError } from "./src/gpu/gpu.ts";
export { DisposedError } from "./src/gpu/disposed.ts";
export { ENGINE_LIMITS } from "./src/gpu/gpu.ts";
export type { Dispatch, EngineLimit, GpuBufferView, GpuOptions } from "./src/gpu/gpu.ts";
export { BufferPool } from "./src/gpu/buffer_pool.ts";
export { PipelineCache } from "./src/gpu/pipeline_cache.ts";
export type { Kernel } from "./src/gpu/pipeline_cache.ts";
export { Params, params } from "./src/gpu/params.ts";
export { ShaderCompileError, wgsl } from "./src/gpu/shader.ts";
export type { ShaderSource } from "./src/gpu/shader.ts";
export { GpuTimer } from "./src/gpu/timer.ts";
export type { Timing } from "./src/gpu/timer.ts";
export { ceilDiv, foldWorkgroups } from "./src/gpu/workgroups.ts";
export { readTensors, shapeSize, Tensor } from "./src/tensor.ts";
export type { DType, HostArray } from "./src/tensor.ts";
export {
  add,
  binary,
  BINARY_OPS,
  div,
  fill,
  mul,
  scale,
  sub,
  unary,
  UNARY_OPS,
} from "./src/ops/elementwise.ts";
export type { BinaryOp, UnaryOp } from "./src/ops/elementwise.ts";
export { max, mean, min, reduceRows, sum } from "./src/ops/reduce.ts";
export type { ReduceOp } from "./src/ops/reduce.ts";
export { cumsum } from "./src/ops/scan.ts";
export { fillNormal, fillUniform, normal, philoxShader, uniform } from "./src/ops/random.ts";
export type { RandomKey } from "./src/ops/random.ts";
export { philox4x32, PhiloxStream, RNG_DOMAIN } from "./src/rng/philox.ts";

// Layers and models
export { activationDims, sampleSize } from "./src/nn/layer.ts";
export type {
  ForwardContext,
  Layer,
  ParamBinding,
  ParamInit,
  ParamKind,
  ParamSpec,
} from "./src/nn/layer.ts";
export { pointCount } from "./src/nn/perturbation.ts";
export type { Perturbation } from "./src/nn/perturbation.ts";
export { PARAM_ALIGN, ParamStore } from "./src/nn/param_store.ts";
export type { ParamEntry } from "./src/nn/param_store.ts";
export {
  defaultGemmVariant,
  GEMM_TILE,
  gemmVariant,
  K_CHUNK,
  setGemmVariant,
} from "./src/nn/gemm.ts";
export type { GemmVariant } from "./src/nn/gemm.ts";
export { tuneGemm } from "./src/nn/gemm_tune.ts";
export type { GemmTuning, TuneOptions } from "./src/nn/gemm_tune.ts";
export { Dense } from "./src/nn/dense.ts";
export { Conv2d } from "./src/nn/conv2d.ts";
export type { Conv2dOptions } from "./src/nn/conv2d.ts";
export { BatchNorm } from "./src/nn/batchnorm.ts";
export type { BatchNormOptions } from "./src/nn/batchnorm.ts";
export { Dropout, dropout } from "./src/nn/dropout.ts";
export type { DropoutKey } from "./src/nn/dropout.ts";
export { ReLU, relu, reluBackward } from "./src/nn/relu.ts";
export {
  AvgPool2d,
  avgPool2d,
  avgPool2dBackward,
  GlobalAvgPool,
  globalAvgPool,
  globalAvgPoolBackward,
  MaxPool2d,
  maxPool2d,
  maxPool2dBackward,
} from "./src/nn/pool.ts";
export { Flatten } from "./src/nn/flatten.ts";
export { correctCount, softmaxCrossEntropy, softmaxCrossEntropyBackward } from "./src/nn/loss.ts";
export type { CrossEntropy } from "./src/nn/loss.ts";
export { cnn, mlp } from "./src/nn/model_config.ts";
export type { CnnOptions, LayerSpec, MlpOptions, ModelConfig } from "./src/nn/model_config.ts";
export { modelDifference, ModelSpecError, parseModelSpec } from "./src/nn/model_spec.ts";
export { encodeNpy, parseNpy } from "./src/data/npy.ts";
export type { NpyArray } from "./src/data/npy.ts";
export { parseCsvTable } from "./src/data/csv_table.ts";
export type { CsvTable } from "./src/data/csv_table.ts";
export { buildLayer, Sequential } from "./src/nn/sequential.ts";
export { assertModelFits, ModelDataError } from "./src/nn/fits.ts";

// Training
export { Adam } from "./src/optim/adam.ts";
export type { AdamOptions } from "./src/optim/adam.ts";

// Data
export {
  DataError,
  datasetSize,
  head,
  holdOut,
  holdOutIndices,
  normalizeBytes,
  sampleLength,
  select,
} from "./src/data/dataset.ts";
export type { Dataset, DataSplits } from "./src/data/dataset.ts";
export { FASHION_MNIST_CLASSES, FASHION_MNIST_FILES, idxPair } from "./src/data/fashion_mnist.ts";
export type { NamedBytes } from "./src/data/fashion_mnist.ts";
export { CIFAR10_CLASSES } from "./src/data/cifar10.ts";
export { synthetic } from "./src/data/synthetic.ts";
export type { SyntheticOptions } from "./src/data/synthetic.ts";
export { batchIndices, epochOrder, gather, uploadBatch } from "./src/data/batches.ts";
export type { Batch } from "./src/data/batches.ts";
export { downsample } from "./src/data/dataset.ts";

// Training loop and checkpoints
export { DivergenceError, evaluate, train } from "./src/train/trainer.ts";
export type { EpochResult, Evaluation, TrainOptions, TrainResult } from "./src/train/trainer.ts";
export type { DivergenceKind } from "./src/train/divergence.ts";
export { checkpointBytes, checkpointFromBytes } from "./src/train/checkpoint.ts";
export type {
  CheckpointInfo,
  CheckpointSource,
  ExpectedModel,
  LoadedCheckpoint,
} from "./src/train/checkpoint.ts";
export type { KeyMap } from "./src/train/torch_state.ts";
export {
  readSplit,
  sourceIndices,
  SPLIT_KEY,
  splitMetadata,
  SPLITS,
  trainingSplit,
} from "./src/train/training_split.ts";
export type { SplitName, TrainingSplit } from "./src/train/training_split.ts";
export { sampleLosses } from "./src/train/sample_losses.ts";
export type { SampleLosses } from "./src/train/sample_losses.ts";
export { decodeSafetensors, encodeSafetensors, SafetensorsError } from "./src/train/safetensors.ts";
export type { NamedTensor } from "./src/train/safetensors.ts";
export { formatDuration, Progress, quietSink, stderrSink } from "./src/train/progress.ts";
export type { ProgressSink } from "./src/train/progress.ts";
export { squaredError, squaredErrorBackward } from "./src/nn/squared_error.ts";

// Landscapes and Δk
export { chunkSizes, lossMatrix, pointTotal } from "./src/landscape/loss_matrix.ts";
export type {
  EvalData,
  LossMatrixOptions,
  PointRange,
  Points,
} from "./src/landscape/loss_matrix.ts";
export { lossMatrixMaterialized } from "./src/landscape/materialize.ts";
export {
  batchMeans,
  curveFromDifferences,
  deltaCurve,
  drawRows,
  recordDifferences,
  reshuffle,
} from "./src/landscape/delta.ts";
export type {
  CurveOptions,
  DeltaCurve,
  DeltaOptions,
  DeltaTerms,
  Estimator,
} from "./src/landscape/delta.ts";
export { heavyTails } from "./src/landscape/tails.ts";
export type { Bootstrapped, TailAt, TailOptions, Tails } from "./src/landscape/tails.ts";
export { quietBatchNormUnits, quietUnitsText } from "./src/landscape/quiet_units.ts";
export type { QuietUnits } from "./src/landscape/quiet_units.ts";
export { interleave, randomDirections } from "./src/landscape/directions.ts";
export type { DirectionOptions } from "./src/landscape/directions.ts";
export {
  centerRowCount,
  estimateCenter,
  estimateDelta,
  sampleOrder,
} from "./src/landscape/estimate.ts";
export type { EstimateOptions } from "./src/landscape/estimate.ts";
export { gaussian2, gridAxis, integrandMaps, lossSurface } from "./src/landscape/grid.ts";
export type { GridOptions, GridValues } from "./src/landscape/grid.ts";
export { landscapeWidth } from "./src/landscape/width.ts";
export { NonFiniteError } from "./src/landscape/finite.ts";
export type { Width, WidthOptions } from "./src/landscape/width.ts";
export { fitRate, logBins, rateSensitivity, resampleRows } from "./src/landscape/rate.ts";
export type {
  LogBinOptions,
  LogBins,
  RateFit,
  RateOptions,
  RateVariant,
} from "./src/landscape/rate.ts";
export { curveLevel, dominantTerm, termMeans } from "./src/landscape/level.ts";
export type { TermMeanOptions, TermMeans } from "./src/landscape/level.ts";
export { sigmaScaling } from "./src/landscape/sigma_scaling.ts";
export type { PowerFit, SigmaLevel, SigmaScaling } from "./src/landscape/sigma_scaling.ts";
export { sufficiency } from "./src/landscape/sufficiency.ts";
export type {
  Sufficiency,
  SufficiencyCommon,
  SufficiencyExtrapolated,
  SufficiencyNotReached,
  SufficiencyOptions,
  SufficiencyReached,
} from "./src/landscape/sufficiency.ts";
export { Curvature, hutchinson, SampleSet } from "./src/landscape/hessian.ts";
export type {
  CurvatureOptions,
  HutchinsonOptions,
  HutchinsonResult,
  ProbeOperator,
  TraceEstimate,
  UploadedBatch,
} from "./src/landscape/hessian.ts";
export { closedFormTerms, closedFormValue, theoryCheck } from "./src/landscape/theory.ts";
export type {
  ClosedFormTerms,
  Estimate,
  TheoryCheck,
  TheoryCheckOptions,
} from "./src/landscape/theory.ts";
