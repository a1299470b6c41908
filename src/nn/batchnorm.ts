/**
 * Batch normalization with PyTorch's semantics (`shaders/batchnorm.wgsl`): BatchNorm1d for
 * per-sample input [F], BatchNorm2d for [C, H, W] (any [C, ...] normalizes per channel).
 * @module
 */
import type { Gpu, GpuBufferView } from "../gpu/gpu.ts";
import { type Uniforms, uniformStruct } from "../gpu/uniforms.ts";
import { type ShaderSource, wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { reduceRows } from "../ops/reduce.ts";
import { Tensor } from "../tensor.ts";
import { invocationShader } from "../gpu/invocation.ts";
import { treeSumShader } from "../gpu/tree_sum.ts";
import { type Lanes, lanesShader } from "../gpu/lanes.ts";
import {
  activationDims,
  type ForwardContext,
  type Layer,
  type ParamBinding,
  type ParamSpec,
  sampleSize,
} from "./layer.ts";
import {
  type Perturbation,
  perturbationShader,
  pointCount,
  withPerturbation,
} from "./perturbation.ts";
import source from "../../shaders/batchnorm.wgsl" with { type: "text" };

const WG = 256;
const ITEMS = 16;
const UNIFORMS = uniformStruct("Params", {
  groups: "u32",
  batch: "u32",
  channels: "u32",
  spatial: "u32",
  chunks: "u32", // partial sums per channel
  xGroupStride: "u32",
  gammaAt: "u32",
  betaAt: "u32",
  meanAt: "u32",
  varAt: "u32",
  gammaIndex: "u32",
  betaIndex: "u32",
  eps: "f32",
  momentum: "f32",
  invCount: "f32",
  invCountM1: "f32",
});
/**
 * Largest workgroup size and values per invocation of the per-channel partial sums (with the
 * reduction of the partials by `reduceRows`, this sets the rounding depth of the statistics).
 */
export const BATCHNORM_LAYOUT = { workgroupSize: WG, items: ITEMS } as const;

/**
 * batchnorm.wgsl assembled after the perturbation variant (none, full or subspace) and the
 * values per invocation of its `Value` passes (default 1; the coefficient passes have none).
 */
function shaderFor(p: Perturbation | undefined, lanes: Lanes = 1): ShaderSource {
  return wgsl(
    "shaders/batchnorm.wgsl",
    source,
    invocationShader,
    treeSumShader,
    lanesShader(lanes),
    perturbationShader(p),
  );
}

/** Workgroup size of a partial-sum pass: a power of two, no wider than a channel needs. */
function reductionWorkgroup(n: number): number {
  let wg = 32;
  while (wg < WG && wg * ITEMS < n) wg *= 2;
  return wg;
}

/**
 * Values per invocation of the elementwise passes (normalize, backwardInput): four needs
 * C % 4 == 0 and S % 4 == 0 or S == 1.
 */
function elementwiseLanes(d: Dims): Lanes {
  return d.channels % 4 === 0 && (d.spatial % 4 === 0 || d.spatial === 1) ? 4 : 1;
}

/**
 * Layout of the per-channel partial sums: four values at a time when S % 4 == 0 (each vec4
 * then holds one channel), the workgroup size and the number of partials per channel.
 */
function partialLayout(d: Dims): { lanes: Lanes; wg: number; chunks: number } {
  const lanes = d.spatial % 4 === 0 ? 4 : 1;
  const items = d.batch * d.spatial / lanes;
  const wg = reductionWorkgroup(items);
  return { lanes, wg, chunks: ceilDiv(items, wg * ITEMS) };
}

/**
 * A parameter view bound from the aligned offset at or before it: storage bindings must start
 * at multiples of minStorageBufferOffsetAlignment, views into a flat parameter vector need not.
 */
function window(gpu: Gpu, t: Tensor): { view: GpuBufferView; at: number } {
  const align = gpu.device.limits.minStorageBufferOffsetAlignment;
  const start = Math.floor(t.byteOffset / align) * align;
  return {
    view: { buffer: t.buffer, byteOffset: start, byteLength: t.byteOffset + t.byteLength - start },
    at: (t.byteOffset - start) / 4,
  };
}

/** Options of {@link BatchNorm}, PyTorch's defaults. */
export interface BatchNormOptions {
  /** Weight of the new batch statistic in the running averages (default 0.1). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

interface Dims {
  batch: number;
  channels: number;
  spatial: number;
}

interface Saved extends Dims {
  x: Tensor;
  /** Coefficients [4, C]: mean, invstd, gamma * invstd, beta. */
  coef: Tensor;
}

/**
 * Batch normalization, as PyTorch's BatchNorm1d / BatchNorm2d with affine parameters and
 * running statistics. Per-sample input [C] or [C, H, W]; statistics per channel over batch
 * and spatial positions.
 *
 * - Training (one group): normalizes with the batch mean and biased variance, and updates
 *   running_mean and running_var in place with `momentum`, the variance unbiased (n / (n - 1)),
 *   as PyTorch does. Like PyTorch it rejects a batch with one value per channel.
 * - Evaluation: running statistics (never perturbed); gamma and beta are read through the
 *   context's perturbation, so G parameter points give G output groups. The input may have one
 *   group (shared by every point) or G.
 *
 * Parameters, in order: weight (gamma, 1), bias (beta, 0), running_mean (0), running_var (1),
 * each of shape [C].
 */
export class BatchNorm implements Layer {
  /** Layer kind, "batchnorm". */
  readonly kind = "batchnorm";
  /** Weight of the new batch statistic in the running averages. */
  readonly momentum: number;
  /** Added to the variance before the square root. */
  readonly eps: number;
  #bound: ParamBinding[] | null = null;
  #saved: Saved | null = null;

  /** A batch-norm layer; `momentum` in [0, 1], `eps` > 0. */
  constructor({ momentum = 0.1, eps = 1e-5 }: BatchNormOptions = {}) {
    if (!(momentum >= 0 && momentum <= 1)) {
      throw new RangeError(`batchnorm momentum must be in [0, 1], got ${momentum}`);
    }
    if (!(eps > 0) || !Number.isFinite(eps)) {
      throw new RangeError(`batchnorm eps must be finite and > 0, got ${eps}`);
    }
    this.momentum = momentum;
    this.eps = eps;
  }

  #channels(input: readonly number[]): number {
    if (input.length < 1 || input.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new RangeError(`batchnorm needs a per-sample shape [C] or [C, H, W], got [${input}]`);
    }
    return input[0];
  }

  /** The input shape: normalization keeps shapes. */
  outputShape(input: readonly number[]): number[] {
    this.#channels(input);
    return [...input];
  }

  /** weight, bias (trainable, kind "norm"), running_mean, running_var (kind "running"), [C]. */
  paramSpecs(input: readonly number[]): ParamSpec[] {
    const shape = [this.#channels(input)];
    return [
      { name: "weight", shape: [...shape], kind: "norm", init: { kind: "constant", value: 1 } },
      { name: "bias", shape: [...shape], kind: "norm", init: { kind: "constant", value: 0 } },
      {
        name: "running_mean",
        shape: [...shape],
        kind: "running",
        init: { kind: "constant", value: 0 },
      },
      {
        name: "running_var",
        shape: [...shape],
        kind: "running",
        init: { kind: "constant", value: 1 },
      },
    ];
  }

  /** Attaches weight, bias (with gradients), running_mean and running_var, in that order. */
  bind(bound: ParamBinding[]): void {
    if (bound.length !== 4) {
      throw new RangeError(`batchnorm binds 4 parameters, got ${bound.length}`);
    }
    const c = bound[0].value.size;
    if (bound.some((b) => b.value.size !== c)) {
      throw new RangeError(
        `batchnorm parameters must all have C elements, got sizes ${
          bound.map((b) => b.value.size)
        }`,
      );
    }
    for (const b of bound.slice(0, 2)) {
      if (!b.grad || b.grad.size !== c) {
        throw new RangeError("batchnorm weight and bias need [C] gradients");
      }
      if (!Number.isInteger(b.offset) || b.offset < 0) {
        throw new RangeError(`batchnorm weight and bias need flat offsets >= 0, got ${b.offset}`);
      }
    }
    this.#bound = bound;
  }

  #params(): ParamBinding[] {
    if (!this.#bound) throw new Error("batchnorm: bind() its parameters before forward");
    return this.#bound;
  }

  /** Dimensions of x, checked against the bound parameters. */
  #dims(x: Tensor): Dims & { groups: number } {
    const { groups, batch, sample } = activationDims(x);
    const channels = this.#params()[0].value.size;
    if (sample[0] !== channels) {
      throw new RangeError(
        `batchnorm with ${channels} channels got activations [${x.shape}] ([groups, batch, C, ...])`,
      );
    }
    return { groups, batch, channels, spatial: sampleSize(sample.slice(1)) };
  }

  /** The parameter struct every batchnorm kernel reads. */
  #struct(
    gpu: Gpu,
    d: Dims,
    o: { groups: number; chunks: number; xGroupStride: number },
  ): Uniforms {
    const [gamma, beta, mean, variance] = this.#params();
    const n = d.batch * d.spatial;
    return UNIFORMS.write({
      groups: o.groups,
      batch: d.batch,
      channels: d.channels,
      spatial: d.spatial,
      chunks: o.chunks,
      xGroupStride: o.xGroupStride,
      gammaAt: window(gpu, gamma.value).at,
      betaAt: window(gpu, beta.value).at,
      meanAt: window(gpu, mean.value).at,
      varAt: window(gpu, variance.value).at,
      gammaIndex: gamma.offset,
      betaIndex: beta.offset,
      eps: this.eps,
      momentum: this.momentum,
      invCount: 1 / n,
      invCountM1: n > 1 ? 1 / (n - 1) : 0,
    });
  }

  /**
   * Records the forward pass of x [groups, batch, C, ...]: batch statistics and running-stat
   * update in training mode (one group), running statistics and perturbed gamma/beta otherwise.
   */
  forward(ctx: ForwardContext, x: Tensor): Tensor {
    return ctx.training ? this.#forwardTrain(ctx, x) : this.#forwardEval(ctx, x);
  }

  #forwardTrain(ctx: ForwardContext, x: Tensor): Tensor {
    const gpu = ctx.gpu;
    if (ctx.perturbation) throw new RangeError("batchnorm: perturbations are for eval mode only");
    const d = this.#dims(x);
    if (d.groups !== 1) {
      throw new RangeError(`batchnorm trains on one group, got activations [${x.shape}]`);
    }
    const n = d.batch * d.spatial;
    if (n < 2) {
      throw new RangeError(
        `Expected more than 1 value per channel when training, got input size ` +
          `[${x.shape.slice(1)}] (as PyTorch: batch norm needs batch * H * W > 1)`,
      );
    }
    const [gamma, beta, runMean, runVar] = this.#params();
    const shader = shaderFor(undefined);
    const { lanes, wg, chunks } = partialLayout(d);
    const struct = this.#struct(gpu, d, { groups: 1, chunks, xGroupStride: 0 });
    const partialKernel = (squares: number) => ({
      shader: shaderFor(undefined, lanes),
      entryPoint: "partialSum",
      constants: { WG: wg, ITEMS, SQUARES: squares },
    });
    const reduce = (partial: Tensor, rows: number): Tensor => {
      if (chunks === 1) return partial;
      const total = reduceRows(partial, "sum", rows);
      partial.dispose();
      return total;
    };

    const partialSums = Tensor.empty(gpu, [d.channels, chunks]);
    gpu.dispatch({
      kernel: partialKernel(0),
      bindings: [x, partialSums, x], // binding 3 (the means) is read only for the squares
      params: struct,
      workgroups: d.channels * chunks,
    });
    const sums = reduce(partialSums, d.channels);
    const partialSquares = Tensor.empty(gpu, [d.channels, chunks]);
    gpu.dispatch({
      kernel: partialKernel(1),
      bindings: [x, partialSquares, sums],
      params: struct,
      workgroups: d.channels * chunks,
    });
    const squares = reduce(partialSquares, d.channels);

    const coef = Tensor.empty(gpu, [4, d.channels]);
    const running = Tensor.empty(gpu, [2, d.channels]);
    gpu.dispatch({
      kernel: { shader, entryPoint: "trainCoefficients", constants: { WG } },
      bindings: [
        null,
        coef,
        sums,
        null,
        null,
        squares,
        window(gpu, gamma.value).view,
        window(gpu, beta.value).view,
        window(gpu, runMean.value).view,
        window(gpu, runVar.value).view,
        running,
      ],
      params: struct,
      workgroups: ceilDiv(d.channels, WG),
    });
    // Written through a temporary: the two statistics may share one buffer, and writable
    // bindings must not overlap.
    gpu.copy(running.view([d.channels]), runMean.value);
    gpu.copy(running.view([d.channels], d.channels), runVar.value);
    for (const t of [sums, squares, running]) t.dispose();

    const y = Tensor.empty(gpu, x.shape);
    this.#normalize(gpu, d, x, y, coef, struct);
    this.release();
    this.#saved = { ...d, x, coef };
    return y;
  }

  /** y = (x - mean) * scale + shift over all of y (G groups of x's per-group size). */
  #normalize(gpu: Gpu, d: Dims, x: Tensor, y: Tensor, coef: Tensor, struct: Uniforms): void {
    const lanes = elementwiseLanes(d);
    gpu.dispatch({
      kernel: { shader: shaderFor(undefined, lanes), entryPoint: "normalize", constants: { WG } },
      bindings: [x, y, null, null, coef],
      params: struct,
      workgroups: ceilDiv(y.size / lanes, WG),
    });
  }

  #forwardEval(ctx: ForwardContext, x: Tensor): Tensor {
    const d = this.#dims(x);
    const points = pointCount(ctx.perturbation);
    if (d.groups !== 1 && d.groups !== points) {
      throw new RangeError(
        `batchnorm evaluates ${points} parameter point(s): input groups must be 1 or ${points}, ` +
          `got activations [${x.shape}]`,
      );
    }
    const struct = this.#struct(ctx.gpu, d, {
      groups: points,
      chunks: 0,
      xGroupStride: d.groups === 1 ? 0 : d.batch * d.channels * d.spatial,
    });
    const coef = this.#evalCoefficients(ctx, struct, points);
    const y = Tensor.empty(ctx.gpu, [points, ...x.shape.slice(1)]);
    this.#normalize(ctx.gpu, d, x, y, coef, struct);
    coef.dispose();
    return y;
  }

  /**
   * Records the evaluation coefficients of every parameter point of `ctx` (running statistics,
   * gamma and beta read through its perturbation): [points, 4, C] holding mean, 1/std,
   * gamma/std and beta, owned by the caller. What the eval forward applies, for a product
   * that applies it in its store instead (src/nn/epilogue.ts).
   */
  evalCoefficients(ctx: ForwardContext): Tensor {
    const channels = this.#params()[0].value.size;
    const points = pointCount(ctx.perturbation);
    const d = { batch: 1, channels, spatial: 1 };
    return this.#evalCoefficients(
      ctx,
      this.#struct(ctx.gpu, d, { groups: points, chunks: 0, xGroupStride: 0 }),
      points,
    );
  }

  #evalCoefficients(ctx: ForwardContext, struct: Uniforms, points: number): Tensor {
    const gpu = ctx.gpu, p = ctx.perturbation;
    const [gamma, beta, runMean, runVar] = this.#params();
    const channels = gamma.value.size;
    const coef = Tensor.empty(gpu, [points, 4, channels]);
    const own: (GpuBufferView | null)[] = [
      null,
      coef,
      null,
      null,
      null,
      null,
      window(gpu, gamma.value).view,
      window(gpu, beta.value).view,
      window(gpu, runMean.value).view,
      window(gpu, runVar.value).view,
    ];
    const bindings: (GpuBufferView | Uniforms | null)[] = withPerturbation(
      new Array(11).fill(null),
      p,
    );
    own.forEach((b, i) => bindings[i] = b);
    gpu.dispatch({
      kernel: { shader: shaderFor(p), entryPoint: "evalCoefficients", constants: { WG } },
      bindings,
      params: struct,
      workgroups: ceilDiv(points * channels, WG),
    });
    return coef;
  }

  /**
   * Records the backward pass of the last training forward: writes dgamma = sum(dy * xhat) and
   * dbeta = sum(dy) into the gradient views (overwriting) and returns dx.
   */
  backward(ctx: ForwardContext, dy: Tensor): Tensor {
    const saved = this.#saved;
    if (!saved) throw new Error("batchnorm: backward needs a training forward first");
    const { x, coef, channels } = saved;
    if (dy.shape.join() !== x.shape.join()) {
      throw new RangeError(`batchnorm backward: dy [${dy.shape}] must match x [${x.shape}]`);
    }
    const gpu = ctx.gpu;
    const [gamma, beta] = this.#params();
    const { lanes, wg, chunks } = partialLayout(saved);
    const struct = this.#struct(gpu, saved, { groups: 1, chunks, xGroupStride: 0 });
    let sums = Tensor.empty(gpu, [2 * channels, chunks]);
    gpu.dispatch({
      kernel: {
        shader: shaderFor(undefined, lanes),
        entryPoint: "partialBackward",
        constants: { WG: wg, ITEMS },
      },
      bindings: [x, sums, null, dy, coef],
      params: struct,
      workgroups: channels * chunks,
    });
    if (chunks > 1) {
      const partial = sums;
      sums = reduceRows(partial, "sum", 2 * channels);
      partial.dispose();
    }
    const dx = Tensor.empty(gpu, x.shape);
    const elementwise = elementwiseLanes(saved);
    gpu.dispatch({
      kernel: {
        shader: shaderFor(undefined, elementwise),
        entryPoint: "backwardInput",
        constants: { WG },
      },
      bindings: [x, dx, sums, dy, coef],
      params: struct,
      workgroups: ceilDiv(x.size / elementwise, WG),
    });
    gpu.copy(sums.view([channels]), beta.grad!);
    gpu.copy(sums.view([channels], channels), gamma.grad!);
    sums.dispose();
    return dx;
  }

  /** Frees the coefficients the last training forward kept (x belongs to the caller). */
  release(): void {
    this.#saved?.coef.dispose();
    this.#saved = null;
  }
}
