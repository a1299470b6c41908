/**
 * Squared-error loss (`shaders/squared_error.wgsl`): per-sample 1/2 |prediction - target|^2
 * for G parameter points, and the gradient of the batch mean.
 * @module
 */
import { uniformStruct } from "../gpu/uniforms.ts";
import { wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { Tensor } from "../tensor.ts";
import { invocationShader } from "../gpu/invocation.ts";
import source from "../../shaders/squared_error.wgsl" with { type: "text" };

const shader = wgsl("shaders/squared_error.wgsl", source, invocationShader);
const UNIFORMS = uniformStruct("Params", {
  rows: "u32",
  batch: "u32",
  outputs: "u32",
  scale: "f32",
});
const WG = 256;

function dims(
  prediction: Tensor,
  targets: Tensor,
): { groups: number; batch: number; outputs: number } {
  if (prediction.shape.length !== 3) {
    throw new RangeError(`predictions must be [groups, batch, outputs], got [${prediction.shape}]`);
  }
  const [groups, batch, outputs] = prediction.shape;
  if (targets.size !== batch * outputs) {
    throw new RangeError(`targets must hold [${batch}, ${outputs}] values, got [${targets.shape}]`);
  }
  return { groups, batch, outputs };
}

/** Per-sample losses [G, B] = 1/2 sum_o (prediction - target)^2; targets [B, O] shared by all G. */
export function squaredError(prediction: Tensor, targets: Tensor): Tensor {
  const { groups, batch, outputs } = dims(prediction, targets);
  const losses = Tensor.empty(prediction.gpu, [groups, batch]);
  prediction.gpu.dispatch({
    kernel: { shader, entryPoint: "forward", constants: { WG } },
    bindings: [prediction, targets, losses],
    params: UNIFORMS.write({ rows: groups * batch, batch, outputs, scale: 1 / batch }),
    workgroups: ceilDiv(groups * batch, WG),
  });
  return losses;
}

/** Gradient of the batch mean of the squared error for G = 1: (prediction - target) / B. */
export function squaredErrorBackward(prediction: Tensor, targets: Tensor): Tensor {
  const { groups, batch, outputs } = dims(prediction, targets);
  if (groups !== 1) throw new RangeError(`squared-error backward takes one group, got ${groups}`);
  const grad = Tensor.empty(prediction.gpu, prediction.shape);
  prediction.gpu.dispatch({
    kernel: { shader, entryPoint: "backward", constants: { WG } },
    bindings: [prediction, targets, grad],
    params: UNIFORMS.write({ rows: batch, batch, outputs, scale: 1 / batch }),
    workgroups: ceilDiv(batch * outputs, WG),
  });
  return grad;
}
