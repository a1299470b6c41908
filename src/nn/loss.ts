/**
 * Softmax cross-entropy (`shaders/loss.wgsl`), as PyTorch's `F.cross_entropy` on logits:
 * per-sample losses for G parameter points at once, their means, the gradient of the mean
 * for training, and an accuracy count.
 *
 * Labels are not checked on the host (that would need a readback): a label >= C gives that
 * sample a NaN loss (so the group's mean is NaN and divergence checks catch it) and a NaN
 * gradient row, and it never counts as correct.
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import { uniformStruct } from "../gpu/uniforms.ts";
import { wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { reduceRows } from "../ops/reduce.ts";
import { Tensor } from "../tensor.ts";
import { invocationShader } from "../gpu/invocation.ts";
import source from "../../shaders/loss.wgsl" with { type: "text" };

const shader = wgsl("shaders/loss.wgsl", source, invocationShader);
const UNIFORMS = uniformStruct("Params", {
  rows: "u32",
  batch: "u32",
  classes: "u32",
  nanBits: "u32",
  scale: "f32",
});
const WG = 256;
const NAN_BITS = 0x7fc00000;
/** Most classes a row may have (each invocation loops over its row a few times). */
export const MAX_CLASSES = 8192;

function dims(
  logits: Tensor,
  labels: Tensor<"u32">,
): { groups: number; batch: number; classes: number } {
  if (logits.shape.length !== 3) {
    throw new RangeError(`logits must be [groups, batch, classes], got [${logits.shape}]`);
  }
  const [groups, batch, classes] = logits.shape;
  if (labels.dtype !== "u32" || labels.shape.length !== 1 || labels.shape[0] !== batch) {
    throw new RangeError(`labels must be u32 [${batch}], got ${labels.dtype} [${labels.shape}]`);
  }
  if (groups * batch * classes === 0) throw new RangeError(`empty logits [${logits.shape}]`);
  if (classes > MAX_CLASSES) {
    throw new RangeError(`${classes} classes exceed the maximum of ${MAX_CLASSES}`);
  }
  return { groups, batch, classes };
}

function launch(
  gpu: Gpu,
  entryPoint: string,
  d: { groups: number; batch: number; classes: number },
  rows: number,
  workgroups: number,
  scale: number,
  bindings: Tensor<"f32" | "u32">[],
): void {
  gpu.dispatch({
    kernel: { shader, entryPoint, constants: { WG } },
    bindings,
    params: UNIFORMS.write({ rows, batch: d.batch, classes: d.classes, nanBits: NAN_BITS, scale }),
    workgroups,
  });
}

/** Per-sample losses and their mean per group. */
export interface CrossEntropy {
  /** [G, B]: -log softmax(logits[g, b])[labels[b]], NaN for a label >= C. */
  losses: Tensor;
  /** [G]: the mean over the batch of each group's losses. */
  mean: Tensor;
}

/**
 * Cross-entropy of logits [G, B, C] against labels [B] (shared by the G groups), stabilised by
 * the row max: log(sum exp(x - max)) - (x[label] - max). Returns new tensors the caller owns.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor<"u32">): CrossEntropy {
  const d = dims(logits, labels);
  const rows = d.groups * d.batch;
  const losses = Tensor.empty(logits.gpu, [d.groups, d.batch]);
  launch(logits.gpu, "forward", d, rows, ceilDiv(rows, WG), 0, [logits, labels, losses]);
  const mean = reduceRows(losses, "mean", d.groups);
  return { losses, mean };
}

/**
 * Gradient of the mean cross-entropy of one group: dlogits [1, B, C] = (softmax - onehot) / B,
 * a new tensor. Rows with a label >= C are NaN.
 */
export function softmaxCrossEntropyBackward(logits: Tensor, labels: Tensor<"u32">): Tensor {
  const d = dims(logits, labels);
  if (d.groups !== 1) {
    throw new RangeError(`the loss gradient is for one group, got logits [${logits.shape}]`);
  }
  const dlogits = Tensor.empty(logits.gpu, logits.shape);
  launch(logits.gpu, "backward", d, d.batch, ceilDiv(d.batch, WG), 1 / d.batch, [
    logits,
    labels,
    dlogits,
  ]);
  return dlogits;
}

/**
 * Number of samples per group whose argmax (lowest index among ties) equals the label:
 * a new u32 tensor [G].
 */
export function correctCount(logits: Tensor, labels: Tensor<"u32">): Tensor<"u32"> {
  const d = dims(logits, labels);
  const counts = Tensor.zeros(logits.gpu, [d.groups], "u32");
  const chunks = ceilDiv(d.batch, WG);
  launch(logits.gpu, "correct", d, d.groups * d.batch, d.groups * chunks, 0, [
    logits,
    labels,
    counts,
  ]);
  return counts;
}
