/**
 * ReLU (`shaders/activation.wgsl`): y = max(x, 0), with PyTorch's gradient (0 at x = 0).
 * @module
 */
import { uniformStruct } from "../gpu/uniforms.ts";
import { wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { Tensor } from "../tensor.ts";
import type { ForwardContext, Layer, ParamSpec } from "./layer.ts";
import { activationDims } from "./layer.ts";
import { invocationShader } from "../gpu/invocation.ts";
import source from "../../shaders/activation.wgsl" with { type: "text" };

const shader = wgsl("shaders/activation.wgsl", source, invocationShader);
const UNIFORMS = uniformStruct("Params", { n: "u32" });
const WG = 256;

/** Records `entryPoint` over `size` values, four at a time where size % 4 == 0. */
function dispatch(x: Tensor, entryPoint: string, bindings: Tensor[]): void {
  const lanes = x.size % 4 === 0 ? 4 : 1;
  x.gpu.dispatch({
    kernel: { shader, entryPoint: entryPoint + (lanes === 4 ? "4" : ""), constants: { WG } },
    bindings,
    params: UNIFORMS.write({ n: x.size / lanes }),
    workgroups: ceilDiv(x.size / lanes, WG),
  });
}

/** y = relu(x), a new tensor of x's shape (NaN passes through, as in PyTorch). */
export function relu(x: Tensor): Tensor {
  const y = Tensor.empty(x.gpu, x.shape);
  dispatch(x, "reluForward", [x, y]);
  return y;
}

/** dx = dy where x > 0, else 0: a new tensor. `x` is the forward input, of dy's shape. */
export function reluBackward(x: Tensor, dy: Tensor): Tensor {
  if (x.shape.join() !== dy.shape.join()) {
    throw new RangeError(`relu backward: dy [${dy.shape}] does not match x [${x.shape}]`);
  }
  const dx = Tensor.empty(x.gpu, x.shape);
  dispatch(x, "reluBackward", [x, dy, dx]);
  return dx;
}

/**
 * The ReLU layer. Any per-sample shape and group count; no parameters. A training forward
 * keeps a reference to its input (which the caller keeps alive until backward), nothing else.
 */
export class ReLU implements Layer {
  /** Layer kind. */
  readonly kind = "relu";
  #input: Tensor | null = null;

  /** Same shape as the input. */
  outputShape(input: readonly number[]): number[] {
    return [...input];
  }

  /** No parameters. */
  paramSpecs(_input: readonly number[]): ParamSpec[] {
    return [];
  }

  /** No parameters: ignored. */
  bind(): void {}

  /** y = relu(x), a new tensor; in training, remembers x for backward. */
  forward(ctx: ForwardContext, x: Tensor): Tensor {
    activationDims(x);
    if (ctx.training) this.#input = x;
    return relu(x);
  }

  /** dx = dy * (x > 0) for the last training forward's x. */
  backward(_ctx: ForwardContext, dy: Tensor): Tensor {
    if (!this.#input) throw new Error("relu: backward without a training forward");
    return reluBackward(this.#input, dy);
  }

  /** Forgets the input. */
  release(): void {
    this.#input = null;
  }
}
