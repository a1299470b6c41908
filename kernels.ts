/**
 * The engine under the research API of mod.ts, for people who write kernels or build on its
 * parts: the device's caches and uniform structs, tensor ops, WGSL assembly, the GEMM cores,
 * layers and their parameters, random streams, and the lower-level steps that mod.ts's Δk,
 * landscape and training functions are made of. `Gpu` and `Tensor` are exported here as well,
 * so that a kernel can be written against this module alone.
 *
 * ```ts
 * import { Gpu, normal, sum } from "./kernels.ts";
 * const gpu = await Gpu.create();
 * const x = normal(gpu, [1024], { seed: 1 });
 * const [total] = await sum(x).read();
 * ```
 * @module
 */

// The device, its caches and kernel launches
export { Gpu } from "./src/gpu/gpu.ts";
export { Tensor } from "./src/tensor.ts";
export { DisposedError } from "./src/gpu/disposed.ts";
export { ENGINE_LIMITS } from "./src/gpu/gpu.ts";
export type { Dispatch, EngineLimit, GpuBufferView, TextureCopy } from "./src/gpu/gpu.ts";
export { BufferPool } from "./src/gpu/buffer_pool.ts";
export { PipelineCache } from "./src/gpu/pipeline_cache.ts";
export type { Kernel } from "./src/gpu/pipeline_cache.ts";
export {
  declaredUniforms,
  Uniforms,
  UniformStruct,
  uniformStruct,
  UniformValueError,
} from "./src/gpu/uniforms.ts";
export type {
  DeclaredField,
  DeclaredStruct,
  Fields,
  FieldType,
  FieldValues,
} from "./src/gpu/uniforms.ts";
export { UniformLayoutError } from "./src/gpu/pipeline_cache.ts";
export { ShaderCompileError, wgsl } from "./src/gpu/shader.ts";
export type { ShaderSource } from "./src/gpu/shader.ts";
export { GpuTimer } from "./src/gpu/timer.ts";
export type { Timing } from "./src/gpu/timer.ts";
export { ceilDiv, foldWorkgroups } from "./src/gpu/workgroups.ts";

// Tensors and their ops
export { readTensors, shapeSize } from "./src/tensor.ts";
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

// Layers, their parameters and kernels
export { activationDims, sampleSize } from "./src/nn/layer.ts";
export type {
  ForwardContext,
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
export type { Epilogue } from "./src/nn/epilogue.ts";
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
export { squaredError, squaredErrorBackward } from "./src/nn/squared_error.ts";
export { buildLayer } from "./src/nn/sequential.ts";
export type { Layer } from "./src/nn/layer.ts";
export { assertModelFits, ModelDataError } from "./src/nn/fits.ts";

// Training steps
export { Adam } from "./src/optim/adam.ts";
export type { DivergenceKind } from "./src/train/divergence.ts";
export { formatDuration, Progress, quietSink, stderrSink } from "./src/train/progress.ts";
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

// Data plumbing
export {
  datasetSize,
  downsample,
  holdOutIndices,
  normalizeBytes,
  sampleLength,
} from "./src/data/dataset.ts";
export type { NamedBytes } from "./src/data/fashion_mnist.ts";
export { batchIndices, epochOrder, gather, uploadBatch } from "./src/data/batches.ts";
export type { Batch } from "./src/data/batches.ts";

// Steps of Δk and landscapes
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
export type { CurveOptions, Estimator } from "./src/landscape/delta.ts";
export { centerRowCount, estimateCenter, sampleOrder } from "./src/landscape/estimate.ts";
export { interleave, randomDirections } from "./src/landscape/directions.ts";
export type { DirectionOptions } from "./src/landscape/directions.ts";
export { gaussian2, gridAxis, integrandMaps } from "./src/landscape/grid.ts";
export { NonFiniteError } from "./src/landscape/finite.ts";
export { logBins, resampleRows } from "./src/landscape/rate.ts";
export type { LogBinOptions, LogBins } from "./src/landscape/rate.ts";
export type {
  SufficiencyCommon,
  SufficiencyExtrapolated,
  SufficiencyNotReached,
  SufficiencyReached,
} from "./src/landscape/sufficiency.ts";
export { heavyTails } from "./src/landscape/tails.ts";
export type { Bootstrapped, TailAt, TailOptions, Tails } from "./src/landscape/tails.ts";
export { quietBatchNormUnits, quietUnitsText } from "./src/landscape/quiet_units.ts";
export type { QuietUnits } from "./src/landscape/quiet_units.ts";
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
