/**
 * Element-wise maps: y = f(x), z = f(x, y), and fills (`shaders/elementwise.wgsl`).
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import { uniformStruct } from "../gpu/uniforms.ts";
import { wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { Tensor } from "../tensor.ts";
import { invocationShader } from "../gpu/invocation.ts";
import source from "../../shaders/elementwise.wgsl" with { type: "text" };

const shader = wgsl("shaders/elementwise.wgsl", source, invocationShader);
const UNIFORMS = uniformStruct("Params", { n: "u32", a: "f32", b: "f32" });
const WG = 256;

/** Name of a unary operation; `affine` is y = a * x + b. */
export type UnaryOp = "affine" | "abs" | "exp" | "log" | "sqrt" | "relu" | "square";
/** Name of a binary operation on equal-shaped tensors. */
export type BinaryOp = "add" | "sub" | "mul" | "div" | "max" | "min";

/** Every unary operation, indexed by its OP code in the shader. */
export const UNARY_OPS: readonly UnaryOp[] = [
  "affine",
  "abs",
  "exp",
  "log",
  "sqrt",
  "relu",
  "square",
];
/** Every binary operation, indexed by its OP code in the shader. */
export const BINARY_OPS: readonly BinaryOp[] = ["add", "sub", "mul", "div", "max", "min"];

function launch(
  gpu: Gpu,
  entryPoint: string,
  op: number,
  n: number,
  a: number,
  b: number,
  bindings: Tensor[],
) {
  gpu.dispatch({
    kernel: { shader, entryPoint, constants: { WG, OP: op } },
    bindings,
    params: UNIFORMS.write({ n, a, b }),
    workgroups: ceilDiv(n, WG),
  });
}

/** y = op(x), a new tensor of x's shape. For `affine`, y = a * x + b. */
export function unary(x: Tensor, op: UnaryOp, a = 1, b = 0): Tensor {
  const y = Tensor.empty(x.gpu, x.shape);
  launch(x.gpu, "map1", UNARY_OPS.indexOf(op), x.size, a, b, [x, y]);
  return y;
}

/** z = op(x, y) element by element; shapes must match. */
export function binary(x: Tensor, y: Tensor, op: BinaryOp): Tensor {
  if (x.shape.join() !== y.shape.join()) {
    throw new RangeError(`${op}: shapes [${x.shape}] and [${y.shape}] differ`);
  }
  const z = Tensor.empty(x.gpu, x.shape);
  launch(x.gpu, "map2", BINARY_OPS.indexOf(op), x.size, 0, 0, [x, y, z]);
  return z;
}

/** Sets every element of `t` to `value` (recorded, not run). */
export function fill(t: Tensor, value: number): void {
  launch(t.gpu, "fill", 0, t.size, value, 0, [t]);
}

/** x + y */
export const add = (x: Tensor, y: Tensor): Tensor => binary(x, y, "add");
/** x - y */
export const sub = (x: Tensor, y: Tensor): Tensor => binary(x, y, "sub");
/** x * y */
export const mul = (x: Tensor, y: Tensor): Tensor => binary(x, y, "mul");
/** x / y */
export const div = (x: Tensor, y: Tensor): Tensor => binary(x, y, "div");
/** a * x + b */
export const scale = (x: Tensor, a: number, b = 0): Tensor => unary(x, "affine", a, b);
