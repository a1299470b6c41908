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
