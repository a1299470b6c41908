import { max, mean, min, REDUCE_LAYOUT, reduceRows, sum } from "../src/ops/reduce.ts";
import { readTensors, Tensor } from "../src/tensor.ts";
import { assertClose, AWKWARD_SIZES, EPS32, gpuTest, randomArray } from "./helpers.ts";
import { absSumRef, reduceRef } from "./reference/reduce.ts";

// Each pass adds a value through at most `items` sequential and log2(workgroupSize) tree
// additions, so a float32 sum of n values is within depth * EPS32 * sum|x| of the exact sum
// (the standard bound for summation of depth d), depth = passes * (items + log2 wg).
// Max and min are exact.
const { workgroupSize, items } = REDUCE_LAYOUT;
function depth(n: number): number {
  let passes = 0;
  do {
    n = Math.ceil(n / (workgroupSize * items));
    passes++;
  } while (n > 1);
  return passes * (items + Math.log2(workgroupSize));
}

function sumBound(xs: Float32Array, rows: number, scale = 1): (r: number) => number {
  const n = xs.length / rows;
  const abs = absSumRef(xs, rows);
  return (r) => (depth(n) + 1) * EPS32 * abs[r] * scale;
}

for (const n of AWKWARD_SIZES) {
  gpuTest(`sum, mean, max, min match float64 on ${n} elements`, async (gpu) => {
    const xs = randomArray(n, 11 * n, -2, 3);
    const x = Tensor.from(gpu, xs);
    const outs = [sum(x), mean(x), max(x), min(x)];
    const [s, m, mx, mn] = await readTensors(outs);
    assertClose(s, reduceRef(xs, 1, "sum"), { bound: sumBound(xs, 1) }, "sum");
    assertClose(m, reduceRef(xs, 1, "mean"), { bound: sumBound(xs, 1, 1 / n) }, "mean");
    assertClose(mx, reduceRef(xs, 1, "max"), { atol: 0 }, "max");
    assertClose(mn, reduceRef(xs, 1, "min"), { atol: 0 }, "min");
    for (const t of [x, ...outs]) t.dispose();
  });
}

gpuTest("row reductions: 3 rows of 65,537 and 70,000 rows of 5 (folded dispatch)", async (gpu) => {
  for (const [rows, n] of [[3, 65_537], [70_000, 5]]) {
    const xs = randomArray(rows * n, rows, -1, 1);
    const x = Tensor.from(gpu, xs);
    const outs = [reduceRows(x, "sum", rows), reduceRows(x, "max", rows)];
    const [s, mx] = await readTensors(outs);
    assertClose(s, reduceRef(xs, rows, "sum"), { bound: sumBound(xs, rows) }, `sum ${rows}x${n}`);
    assertClose(mx, reduceRef(xs, rows, "max"), { atol: 0 }, `max ${rows}x${n}`);
    for (const t of [x, ...outs]) t.dispose();
  }
});

gpuTest("reductions reject empty input and rows that do not divide the size", async (gpu) => {
  const x = Tensor.zeros(gpu, [10]);
  for (
    const [f, what] of [[() => reduceRows(x, "sum", 3), "rows"], [
      () => sum(x.view([0])),
      "empty",
    ]] as const
  ) {
    let thrown = false;
    try {
      f();
    } catch {
      thrown = true;
    }
    if (!thrown) throw new Error(`expected an error for ${what}`);
  }
  x.dispose();
  await gpu.flush();
});
