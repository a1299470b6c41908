/**
 * Pooling over NCHW activations (`shaders/pool.wgsl`): max and average pooling with a square
 * k x k window, stride s (default k), no padding and PyTorch's floor rule for the output size,
 * and global average pooling ([C, H, W] -> [C], `AdaptiveAvgPool2d(1)` then flatten).
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import { uniformStruct } from "../gpu/uniforms.ts";
import { wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { reduceRows } from "../ops/reduce.ts";
import { Tensor } from "../tensor.ts";
import type { ForwardContext, Layer, ParamSpec } from "./layer.ts";
import { activationDims } from "./layer.ts";
import { invocationShader } from "../gpu/invocation.ts";
import source from "../../shaders/pool.wgsl" with { type: "text" };

const shader = wgsl("shaders/pool.wgsl", source, invocationShader);
const UNIFORMS = uniformStruct("Params", {
  n: "u32",
  h: "u32",
  w: "u32",
  oh: "u32",
  ow: "u32",
  k: "u32",
  s: "u32",
  scale: "f32",
});
const WG = 256;
/** Largest window side: a k x k window costs each invocation about k^2 loop iterations. */
export const MAX_POOL_WINDOW = 64;
/**
 * Planes of up to this many values are averaged by one invocation each; larger ones go
 * through the row reduction (lavapipe stops an invocation after 65,535 loop iterations).
 */
export const GLOBAL_POOL_DIRECT_MAX = 16_384;

/** Per-sample output shape [C, OH, OW] of k x k pooling with stride s over [C, H, W]. */
export function poolShape(input: readonly number[], kernel: number, stride = kernel): number[] {
  if (input.length !== 3) throw new RangeError(`pooling needs a [C, H, W] sample, got [${input}]`);
  for (const [v, what] of [[kernel, "kernel"], [stride, "stride"]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`pooling ${what} must be a positive integer, got ${v}`);
    }
  }
  if (kernel > MAX_POOL_WINDOW) {
    throw new RangeError(`pooling kernel ${kernel} exceeds the maximum of ${MAX_POOL_WINDOW}`);
  }
  const [c, h, w] = input;
  if (h < kernel || w < kernel) {
    throw new RangeError(`pooling kernel ${kernel} is larger than the [${h}, ${w}] input`);
  }
  return [c, Math.floor((h - kernel) / stride) + 1, Math.floor((w - kernel) / stride) + 1];
}

/** Splits [...lead, C, H, W] into planes (product of lead and C) and the plane's sides. */
function planesOf(shape: readonly number[]): { planes: number; h: number; w: number } {
  if (shape.length < 3) throw new RangeError(`pooling needs [..., C, H, W], got [${shape}]`);
  const h = shape[shape.length - 2], w = shape[shape.length - 1];
  return { planes: shape.slice(0, -2).reduce((a, b) => a * b, 1), h, w };
}

interface PoolGeometry {
  planes: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  k: number;
  s: number;
  outShape: number[];
}

function geometry(inputShape: readonly number[], k: number, s: number): PoolGeometry {
  const [_c, oh, ow] = poolShape(inputShape.slice(-3), k, s);
  const { planes, h, w } = planesOf(inputShape);
  return { planes, h, w, oh, ow, k, s, outShape: [...inputShape.slice(0, -2), oh, ow] };
}

function launch(
  gpu: Gpu,
  entryPoint: string,
  n: number,
  g: PoolGeometry,
  scale: number,
  bindings: Tensor<"f32" | "u32">[],
): void {
  gpu.dispatch({
    kernel: { shader, entryPoint, constants: { WG } },
    bindings,
    params: UNIFORMS.write({ n, h: g.h, w: g.w, oh: g.oh, ow: g.ow, k: g.k, s: g.s, scale }),
    workgroups: ceilDiv(n, WG),
  });
}

function checkShape(t: Tensor<"f32" | "u32">, shape: readonly number[], what: string): void {
  if (t.shape.join() !== shape.join()) {
    throw new RangeError(`${what} is [${t.shape}], expected [${shape}]`);
  }
}

/**
 * k x k max pooling with stride s of x [..., C, H, W]: a new tensor [..., C, OH, OW]. Ties keep
 * the first maximum in row-major scan order, and NaN wins, as in PyTorch. With `saveArgmax`,
 * also returns the argmax of every window (offset within its H x W plane) for the backward
 * pass; the caller owns both tensors.
 */
export function maxPool2d(
  x: Tensor,
  kernel: number,
  stride = kernel,
  saveArgmax = false,
): { y: Tensor; argmax: Tensor<"u32"> | null } {
  const g = geometry(x.shape, kernel, stride);
  const y = Tensor.empty(x.gpu, g.outShape);
  const argmax = saveArgmax ? Tensor.empty(x.gpu, g.outShape, "u32") : null;
  const entry = argmax ? "maxForwardSave" : "maxForward";
  launch(x.gpu, entry, y.size, g, 0, argmax ? [x, y, argmax] : [x, y]);
  return { y, argmax };
}

/**
 * Backward of max pooling: dx [inputShape] gets each dy at its window's argmax (summed where
 * overlapping windows share one), zero elsewhere. A new tensor.
 */
export function maxPool2dBackward(
  dy: Tensor,
  argmax: Tensor<"u32">,
  inputShape: readonly number[],
  kernel: number,
  stride = kernel,
): Tensor {
  const g = geometry(inputShape, kernel, stride);
  checkShape(dy, g.outShape, "max pool dy");
  checkShape(argmax, g.outShape, "max pool argmax");
  const dx = Tensor.empty(dy.gpu, inputShape);
  launch(dy.gpu, "maxBackward", dx.size, g, 0, [dy, argmax, dx]);
  return dx;
}

/** k x k average pooling with stride s of x [..., C, H, W] (divisor k^2): a new tensor. */
export function avgPool2d(x: Tensor, kernel: number, stride = kernel): Tensor {
  const g = geometry(x.shape, kernel, stride);
  const y = Tensor.empty(x.gpu, g.outShape);
  launch(x.gpu, "avgForward", y.size, g, 1 / (kernel * kernel), [x, y]);
  return y;
}

/** Backward of average pooling: dx[e] = sum of dy / k^2 over the windows holding e. */
export function avgPool2dBackward(
  dy: Tensor,
  inputShape: readonly number[],
  kernel: number,
  stride = kernel,
): Tensor {
  const g = geometry(inputShape, kernel, stride);
  checkShape(dy, g.outShape, "average pool dy");
  const dx = Tensor.empty(dy.gpu, inputShape);
  launch(dy.gpu, "avgBackward", dx.size, g, 1 / (kernel * kernel), [dy, dx]);
  return dx;
}

/** Mean of every H x W plane of x [..., C, H, W]: a new tensor [..., C]. */
export function globalAvgPool(x: Tensor): Tensor {
  const { planes, h, w } = planesOf(x.shape);
  const outShape = x.shape.slice(0, -2);
  if (h * w === 0) throw new RangeError(`global average pooling of empty planes [${x.shape}]`);
  if (h * w > GLOBAL_POOL_DIRECT_MAX) {
    // Long planes: the row reduction splits them across invocations. Its [planes] result is
    // copied so that the caller owns a tensor of the right shape.
    const means = reduceRows(x, "mean", planes);
    const y = Tensor.empty(x.gpu, outShape);
    x.gpu.copy(means, y);
    means.dispose();
    return y;
  }
  const y = Tensor.empty(x.gpu, outShape);
  const g = { planes, h, w, oh: 1, ow: 1, k: 1, s: 1, outShape };
  launch(x.gpu, "globalForward", planes, g, 1 / (h * w), [x, y]);
  return y;
}

/** Backward of global average pooling: dx[..., c, i, j] = dy[..., c] / (H * W). */
export function globalAvgPoolBackward(dy: Tensor, inputShape: readonly number[]): Tensor {
  const { planes, h, w } = planesOf(inputShape);
  checkShape(dy, inputShape.slice(0, -2), "global average pool dy");
  const dx = Tensor.empty(dy.gpu, inputShape);
  const g = { planes, h, w, oh: 1, ow: 1, k: 1, s: 1, outShape: [] };
  launch(dy.gpu, "globalBackward", dx.size, g, 1 / (h * w), [dy, dx]);
  return dx;
}

function noTrainingForward(kind: string): never {
  throw new Error(`${kind}: backward without a training forward`);
}

/**
 * `nn.MaxPool2d(kernel, stride)` on [groups, batch, C, H, W]. A training forward keeps the
 * argmax of every window (a u32 tensor of the output's size) until `release`.
 */
export class MaxPool2d implements Layer {
  /** Layer kind. */
  readonly kind = "maxpool";
  #argmax: Tensor<"u32"> | null = null;
  #inputShape: number[] | null = null;

  /** A k x k max pool with stride s (default k), no padding. */
  constructor(
    /** Window side k. */
    readonly kernel: number,
    /** Stride s. */
    readonly stride: number = kernel,
  ) {
    poolShape([1, kernel, kernel], kernel, stride);
  }

  /** [C, OH, OW] with OH = floor((H - k) / s) + 1. */
  outputShape(input: readonly number[]): number[] {
    return poolShape(input, this.kernel, this.stride);
  }

  /** No parameters. */
  paramSpecs(_input: readonly number[]): ParamSpec[] {
    return [];
  }

  /** No parameters: ignored. */
  bind(): void {}

  /** The pooled tensor; in training, keeps the window argmax for backward. */
  forward(ctx: ForwardContext, x: Tensor): Tensor {
    this.outputShape(activationDims(x).sample);
    const { y, argmax } = maxPool2d(x, this.kernel, this.stride, ctx.training);
    if (ctx.training) {
      this.release();
      this.#argmax = argmax;
      this.#inputShape = [...x.shape];
    }
    return y;
  }

  /** dx: each dy routed to its window's argmax. */
  backward(_ctx: ForwardContext, dy: Tensor): Tensor {
    if (!this.#argmax || !this.#inputShape) noTrainingForward(this.kind);
    return maxPool2dBackward(dy, this.#argmax, this.#inputShape, this.kernel, this.stride);
  }

  /** Frees the saved argmax. */
  release(): void {
    this.#argmax?.dispose();
    this.#argmax = null;
    this.#inputShape = null;
  }
}

/** `nn.AvgPool2d(kernel, stride)` on [groups, batch, C, H, W] (no padding, divisor k^2). */
export class AvgPool2d implements Layer {
  /** Layer kind. */
  readonly kind = "avgpool";
  #inputShape: number[] | null = null;

  /** A k x k average pool with stride s (default k), no padding. */
  constructor(
    /** Window side k. */
    readonly kernel: number,
    /** Stride s. */
    readonly stride: number = kernel,
  ) {
    poolShape([1, kernel, kernel], kernel, stride);
  }

  /** [C, OH, OW] with OH = floor((H - k) / s) + 1. */
  outputShape(input: readonly number[]): number[] {
    return poolShape(input, this.kernel, this.stride);
  }

  /** No parameters. */
  paramSpecs(_input: readonly number[]): ParamSpec[] {
    return [];
  }

  /** No parameters: ignored. */
  bind(): void {}

  /** The pooled tensor; in training, remembers the input shape. */
  forward(ctx: ForwardContext, x: Tensor): Tensor {
    this.outputShape(activationDims(x).sample);
    const y = avgPool2d(x, this.kernel, this.stride);
    if (ctx.training) this.#inputShape = [...x.shape];
    return y;
  }

  /** dx: each dy / k^2 spread over its window. */
  backward(_ctx: ForwardContext, dy: Tensor): Tensor {
    if (!this.#inputShape) noTrainingForward(this.kind);
    return avgPool2dBackward(dy, this.#inputShape, this.kernel, this.stride);
  }

  /** Forgets the input shape. */
  release(): void {
    this.#inputShape = null;
  }
}

/** Global average pooling: [groups, batch, C, H, W] -> [groups, batch, C]. */
export class GlobalAvgPool implements Layer {
  /** Layer kind. */
  readonly kind = "globalavgpool";
  #inputShape: number[] | null = null;

  /** [C] for a [C, H, W] input. */
  outputShape(input: readonly number[]): number[] {
    if (input.length !== 3 || input[1] * input[2] === 0) {
      throw new RangeError(`global average pooling needs a non-empty [C, H, W], got [${input}]`);
    }
    return [input[0]];
  }

  /** No parameters. */
  paramSpecs(_input: readonly number[]): ParamSpec[] {
    return [];
  }

  /** No parameters: ignored. */
  bind(): void {}

  /** The plane means; in training, remembers the input shape. */
  forward(ctx: ForwardContext, x: Tensor): Tensor {
    this.outputShape(activationDims(x).sample);
    const y = globalAvgPool(x);
    if (ctx.training) this.#inputShape = [...x.shape];
    return y;
  }

  /** dx: dy / (H * W) over every plane. */
  backward(_ctx: ForwardContext, dy: Tensor): Tensor {
    if (!this.#inputShape) noTrainingForward(this.kind);
    return globalAvgPoolBackward(dy, this.#inputShape);
  }

  /** Forgets the input shape. */
  release(): void {
    this.#inputShape = null;
  }
}
