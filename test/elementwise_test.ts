import { add, binary, BINARY_OPS, fill, unary, UNARY_OPS } from "../src/ops/elementwise.ts";
import { readTensors, Tensor } from "../src/tensor.ts";
import { assertClose, AWKWARD_SIZES, EPS32, gpuTest, randomArray } from "./helpers.ts";
import { binaryRef, unaryRef } from "./reference/elementwise.ts";

// Tolerances from WGSL's accuracy rules: +, -, *, max, min, abs, relu correctly rounded
// (one rounding: EPS32 relative); division 2.5 ULP; sqrt 3 ULP (via inverseSqrt); exp
// 3 + 2|x| ULP; log 3 ULP outside [0.5, 2] and 2^-21 absolute inside.
const ULP = 2 * EPS32;
const unaryTol: Record<string, (x: number, e: number) => number> = {
  affine: (_x, e) => 2 * EPS32 * Math.abs(e) + 1e-7, // a*x+b: up to two roundings
  abs: () => 0,
  relu: () => 0,
  square: (_x, e) => EPS32 * Math.abs(e),
  sqrt: (_x, e) => 3 * ULP * Math.abs(e),
  exp: (x, e) => (3 + 2 * Math.abs(x)) * ULP * Math.abs(e),
  log: (_x, e) => 2 ** -21 + 3 * ULP * Math.abs(e),
};
const binaryTol: Record<string, number> = {
  add: EPS32,
  sub: EPS32,
  mul: EPS32,
  div: 2.5 * ULP,
  max: 0,
  min: 0,
};

for (const n of AWKWARD_SIZES) {
  gpuTest(`unary ops match float64 on ${n} elements`, async (gpu) => {
    const xs = randomArray(n, n, -4, 4);
    const pos = randomArray(n, n + 1, 0.01, 8);
    const x = Tensor.from(gpu, xs);
    const xp = Tensor.from(gpu, pos);
    const ops = UNARY_OPS;
    const outs = ops.map((op) => unary(op === "log" || op === "sqrt" ? xp : x, op, -1.5, 0.25));
    const got = await readTensors(outs);
    ops.forEach((op, k) => {
      const input = op === "log" || op === "sqrt" ? pos : xs;
      const ref = unaryRef(input, op, -1.5, 0.25);
      assertClose(got[k], ref, { bound: (i) => unaryTol[op](input[i], ref[i]) }, `${op}[${n}]`);
    });
    for (const t of [x, xp, ...outs]) t.dispose();
  });

  gpuTest(`binary ops match float64 on ${n} elements`, async (gpu) => {
    const xs = randomArray(n, 2 * n, -3, 3);
    const ys = randomArray(n, 2 * n + 1, 0.5, 2);
    const x = Tensor.from(gpu, xs), y = Tensor.from(gpu, ys);
    const ops = BINARY_OPS;
    const outs = ops.map((op) => binary(x, y, op));
    const got = await readTensors(outs);
    ops.forEach((op, k) => {
      const ref = binaryRef(xs, ys, op);
      assertClose(got[k], ref, { rtol: binaryTol[op] }, `${op}[${n}]`);
    });
    for (const t of [x, y, ...outs]) t.dispose();
  });
}

gpuTest("fill sets every element, including a tail that is not a multiple of 256", async (gpu) => {
  const t = Tensor.empty(gpu, [3, 333]);
  fill(t, 2.5);
  const got = await t.read();
  assertClose(got, new Float64Array(999).fill(2.5), { atol: 0 });
  t.dispose();
});

gpuTest("binary ops reject mismatched shapes", async (gpu) => {
  const a = Tensor.zeros(gpu, [2, 3]), b = Tensor.zeros(gpu, [3, 2]);
  let message = "";
  try {
    add(a, b);
  } catch (e) {
    message = (e as Error).message;
  }
  if (!message.includes("[2,3]") || !message.includes("[3,2]")) {
    throw new Error(`expected a shape error naming both shapes, got "${message}"`);
  }
  a.dispose();
  b.dispose();
  await gpu.flush();
});
