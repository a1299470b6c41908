/**
 * Adam with PyTorch's semantics, one fused kernel over every parameter (`shaders/adam.wgsl`);
 * the moment estimates stay on the GPU.
 * @module
 */
import { uniformStruct } from "../gpu/uniforms.ts";
import { wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { Tensor } from "../tensor.ts";
import { invocationShader } from "../gpu/invocation.ts";
import source from "../../shaders/adam.wgsl" with { type: "text" };

const shader = wgsl("shaders/adam.wgsl", source, invocationShader);
const UNIFORMS = uniformStruct("Params", {
  n: "u32",
  beta1: "f32",
  beta2: "f32",
  oneMinusBeta1: "f32",
  oneMinusBeta2: "f32",
  eps: "f32",
  stepSize: "f32",
  correction2Sqrt: "f32",
  weightDecay: "f32",
});

/** Adam's hyper-parameters (PyTorch defaults except the paper's learning rate). */
export interface AdamOptions {
  /** Learning rate (default 3e-4, as the paper). */
  lr?: number;
  /** Decay of the first moment (default 0.9). */
  beta1?: number;
  /** Decay of the second moment (default 0.999). */
  beta2?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient, as torch.optim.Adam's weight_decay (default 0). */
  weightDecay?: number;
}

/** Adam over a flat parameter vector and its gradient. */
export class Adam {
  /** Hyper-parameters in use. */
  readonly options: Required<AdamOptions>;
  /** First-moment estimates. */
  readonly m: Tensor;
  /** Second-moment estimates. */
  readonly v: Tensor;
  #step = 0;

  /** Adam for `weights`, reading gradients from `grads` (same shape). */
  constructor(readonly weights: Tensor, readonly grads: Tensor, options: AdamOptions = {}) {
    this.options = { lr: 3e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, ...options };
    const { lr, beta1, beta2, eps, weightDecay } = this.options;
    if (!(lr > 0)) throw new RangeError(`learning rate must be > 0, got ${lr}`);
    if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
      throw new RangeError(`betas must be in [0, 1), got ${beta1}, ${beta2}`);
    }
    if (!(eps >= 0) || !(weightDecay >= 0)) {
      throw new RangeError("eps and weight decay must be >= 0");
    }
    if (weights.size !== grads.size) throw new RangeError("weights and gradients differ in size");
    this.m = Tensor.zeros(weights.gpu, weights.shape);
    this.v = Tensor.zeros(weights.gpu, weights.shape);
  }

  /** Steps taken so far. */
  get step(): number {
    return this.#step;
  }

  /** Records one update of every weight from the current gradients. */
  update(): void {
    const t = ++this.#step;
    const { lr, beta1, beta2, eps, weightDecay } = this.options;
    const n = this.weights.size;
    this.weights.gpu.dispatch({
      kernel: { shader, entryPoint: "step", constants: { WG: 256 } },
      bindings: [this.weights, this.grads, this.m, this.v],
      params: UNIFORMS.write({
        n,
        beta1,
        beta2,
        oneMinusBeta1: 1 - beta1,
        oneMinusBeta2: 1 - beta2,
        eps,
        stepSize: lr / (1 - beta1 ** t),
        correction2Sqrt: Math.sqrt(1 - beta2 ** t),
        weightDecay,
      }),
      workgroups: ceilDiv(n, 256),
    });
  }

  /** Restores the moments and step count (from a checkpoint). */
  restore(step: number, m: Float32Array, v: Float32Array): void {
    this.#step = step;
    this.weights.gpu.write(this.m, m);
    this.weights.gpu.write(this.v, v);
  }

  /** Frees the moment buffers. */
  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}
