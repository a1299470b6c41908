/**
 * What a layer is: per-sample shapes, the parameters it declares, and forward and backward
 * passes that record kernels.
 *
 * Activations carry a leading group axis: [groups, batch, ...sample shape]. Training and plain
 * evaluation use one group. Landscape evaluation runs G parameter points at once: parameterized
 * layers read their weights through a {@link Perturbation} and emit G groups; the model input
 * has one group, shared by all points (layers read it with group stride 0), and layers without
 * parameters keep whatever group count they receive.
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import type { Tensor } from "../tensor.ts";
import type { Perturbation } from "./perturbation.ts";

/** What a parameter is, which decides its initialisation, perturbation and normalisation. */
export type ParamKind = "weight" | "bias" | "norm" | "running";

/** How a parameter starts: PyTorch's defaults are uniform bounds and constants. */
export type ParamInit =
  | { kind: "uniform"; bound: number }
  | { kind: "constant"; value: number };

/** A parameter a layer declares; the model allocates and initialises its storage. */
export interface ParamSpec {
  /** Name within the layer, e.g. "weight", "running_mean" (PyTorch's names). */
  name: string;
  /** Extents, outermost first. */
  shape: number[];
  /** weight/bias/norm are trainable; running statistics are not. */
  kind: ParamKind;
  /** Initial values. */
  init: ParamInit;
}

/** Storage the model gives a parameter. */
export interface ParamBinding {
  /** The values (a view into the model's flat parameter or statistics buffer). */
  value: Tensor;
  /** The gradient (a view into the flat gradient buffer); absent for running statistics. */
  grad?: Tensor;
  /**
   * Position of element 0 in the model's flat trainable vector: the index the perturbation
   * shaders key their noise or directions by. -1 for running statistics.
   */
  offset: number;
}

/** How a forward pass runs. */
export interface ForwardContext {
  /** The device kernels are recorded on. */
  gpu: Gpu;
  /** Train mode: batch statistics, dropout on, inputs kept for backward. */
  training: boolean;
  /** Seed and step for dropout masks (regenerated in backward, never stored). */
  seed: number;
  /** Training step (keys dropout masks together with the seed). */
  step: number;
  /** Evaluate G parameter points at once (eval mode only). */
  perturbation?: Perturbation;
  /**
   * The input x [1, B, ...] is the same for every parameter point (the model's input, before any
   * layer with parameters), so a layer may compute its unperturbed product once for all points
   * (default false: with one point, an input [1, B, ...] may be that point's own activation).
   */
  sharedInput?: boolean;
}

/** A layer of a sequential model. */
export interface Layer {
  /** Kind of layer, e.g. "dense" (used in parameter names and checkpoints). */
  readonly kind: string;
  /** Per-sample output shape for a per-sample input shape; throws for shapes it cannot take. */
  outputShape(input: readonly number[]): number[];
  /** Parameters for that input shape, in a fixed order. */
  paramSpecs(input: readonly number[]): ParamSpec[];
  /** Attaches storage for the parameters (same order as `paramSpecs`). */
  bind(params: ParamBinding[]): void;
  /**
   * Records the forward pass of x: [groups, batch, ...input]. Returns a new tensor
   * [groups', batch, ...output] that the caller owns. In training mode the layer keeps what
   * its backward pass needs (x itself must stay alive until then).
   */
  forward(ctx: ForwardContext, x: Tensor): Tensor;
  /**
   * Records the backward pass for the last training forward: dy has the output's shape; writes
   * the parameter gradients (overwriting) and returns dx, which the caller owns.
   */
  backward(ctx: ForwardContext, dy: Tensor): Tensor;
  /**
   * Optional: the backward pass without dx, writing only the parameter gradients. A model
   * calls it on its first layer with parameters, whose input gradient nothing reads.
   */
  backwardParams?(ctx: ForwardContext, dy: Tensor): void;
  /** Releases what the last training forward kept. */
  release(): void;
}

/** Number of elements of one sample. */
export function sampleSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Splits an activation shape [groups, batch, ...sample] into its parts. */
export function activationDims(
  t: Tensor,
): { groups: number; batch: number; sample: number[]; features: number } {
  if (t.shape.length < 3) {
    throw new RangeError(`activation [${t.shape}] needs [groups, batch, ...sample] axes`);
  }
  const [groups, batch, ...sample] = t.shape;
  return { groups, batch, sample, features: sampleSize(sample) };
}
