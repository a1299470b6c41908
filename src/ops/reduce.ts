/**
 * Sum, mean, max and min over all elements or along rows (`shaders/reduce.wgsl`).
 * @module
 */
import { uniformStruct } from "../gpu/uniforms.ts";
import { wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { Tensor } from "../tensor.ts";
import { invocationShader } from "../gpu/invocation.ts";
import { treeSumShader } from "../gpu/tree_sum.ts";
import source from "../../shaders/reduce.wgsl" with { type: "text" };

const shader = wgsl("shaders/reduce.wgsl", source, invocationShader, treeSumShader);
const UNIFORMS = uniformStruct("Params", { n: "u32", rows: "u32", chunks: "u32", scale: "f32" });
const WG = 128;
const ITEMS = 32;
/** Workgroup size and values per invocation of each reduction pass (sets rounding depth). */
export const REDUCE_LAYOUT = { workgroupSize: WG, items: ITEMS } as const;
const OPS: Record<string, number> = { sum: 0, mean: 0, max: 1, min: 2 };

/** A reduction. */
export type ReduceOp = "sum" | "mean" | "max" | "min";

/**
 * Reduces `x`, viewed as [rows, size / rows], along its rows: a new tensor of shape [rows].
 * Each pass shrinks a row by WG * ITEMS; passes repeat until one value per row is left.
 */
export function reduceRows(x: Tensor, op: ReduceOp, rows = 1): Tensor {
  const n = rows === 0 ? 0 : x.size / rows;
  if (!Number.isInteger(n)) {
    throw new RangeError(`${x.size} elements do not split into ${rows} rows`);
  }
  if (n === 0) throw new RangeError(`${op} of an empty tensor`);
  const gpu = x.gpu;
  const code = OPS[op];
  let input = x;
  let length = n;
  do {
    const chunks = ceilDiv(length, WG * ITEMS);
    const output = Tensor.empty(gpu, chunks === 1 ? [rows] : [rows, chunks]);
    const scale = chunks === 1 && op === "mean" ? 1 / n : 1;
    gpu.dispatch({
      kernel: { shader, entryPoint: "main", constants: { WG, ITEMS, OP: code } },
      bindings: [input, output],
      params: UNIFORMS.write({ n: length, rows, chunks, scale }),
      workgroups: rows * chunks,
    });
    if (input !== x) input.dispose();
    input = output;
    length = chunks;
  } while (length > 1);
  return input;
}

/** Sum of all elements, shape [1]. */
export const sum = (x: Tensor): Tensor => reduceRows(x, "sum");
/** Mean of all elements, shape [1]. */
export const mean = (x: Tensor): Tensor => reduceRows(x, "mean");
/** Largest element, shape [1]. */
export const max = (x: Tensor): Tensor => reduceRows(x, "max");
/** Smallest element, shape [1]. */
export const min = (x: Tensor): Tensor => reduceRows(x, "min");
