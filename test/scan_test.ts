import { cumsum } from "../src/ops/scan.ts";
import { Tensor } from "../src/tensor.ts";
import { assertClose, AWKWARD_SIZES, EPS32, gpuTest, randomArray } from "./helpers.ts";
import { cumsumRef, scanDepth } from "./reference/reduce.ts";

const depth = scanDepth;

function check(got: Float32Array, xs: Float32Array, rows: number, what: string): void {
  const n = xs.length / rows;
  const absPrefix = cumsumRef(Float64Array.from(xs, Math.abs), rows);
  const k = depth(n) * EPS32;
  assertClose(got, cumsumRef(xs, rows), { bound: (i) => k * absPrefix[i] }, what);
}

for (const n of AWKWARD_SIZES) {
  gpuTest(`inclusive scan matches float64 on ${n} elements`, async (gpu) => {
    const xs = randomArray(n, 5 * n, -1, 1.5);
    const x = Tensor.from(gpu, xs);
    const y = cumsum(x);
    check(await y.read(), xs, 1, `cumsum[${n}]`);
    x.dispose();
    y.dispose();
  });
}

gpuTest("row scans: 5 rows of 65,537 and 70,000 rows of 3 (folded dispatch)", async (gpu) => {
  for (const [rows, n] of [[5, 65_537], [70_000, 3]]) {
    const xs = randomArray(rows * n, rows + n, 0, 1);
    const x = Tensor.from(gpu, xs);
    const y = cumsum(x, rows);
    check(await y.read(), xs, rows, `cumsum ${rows}x${n}`);
    x.dispose();
    y.dispose();
  }
});
