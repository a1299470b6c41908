/**
 * Flatten: [groups, batch, ...sample] -> [groups, batch, product of sample], a view (no copy,
 * no kernel), as `nn.Flatten()` on row-major (NCHW) data.
 * @module
 */
import type { Tensor } from "../tensor.ts";
import type { ForwardContext, Layer, ParamSpec } from "./layer.ts";
import { activationDims, sampleSize } from "./layer.ts";

/** The flatten layer: reshapes each sample to one axis; no parameters, any group count. */
export class Flatten implements Layer {
  /** Layer kind. */
  readonly kind = "flatten";
  #sample: number[] | null = null;

  /** [product of the input's extents]. */
  outputShape(input: readonly number[]): number[] {
    return [sampleSize(input)];
  }

  /** No parameters. */
  paramSpecs(_input: readonly number[]): ParamSpec[] {
    return [];
  }

  /** No parameters: ignored. */
  bind(): void {}

  /**
   * x viewed as [groups, batch, features]: shares x's storage (disposing the view is a no-op,
   * so x must outlive it). In training, remembers the per-sample shape for backward.
   */
  forward(ctx: ForwardContext, x: Tensor): Tensor {
    const { groups, batch, sample, features } = activationDims(x);
    if (ctx.training) this.#sample = sample;
    return x.reshape([groups, batch, features]);
  }

  /** dy viewed with the last training input's per-sample shape (a view of dy's storage). */
  backward(_ctx: ForwardContext, dy: Tensor): Tensor {
    if (!this.#sample) throw new Error("flatten: backward without a training forward");
    const { groups, batch, features } = activationDims(dy);
    if (features !== sampleSize(this.#sample)) {
      throw new RangeError(`flatten backward: dy [${dy.shape}] does not match [${this.#sample}]`);
    }
    return dy.reshape([groups, batch, ...this.#sample]);
  }

  /** Forgets the input shape. */
  release(): void {
    this.#sample = null;
  }
}
