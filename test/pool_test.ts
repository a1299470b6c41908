import type { Gpu } from "../src/gpu/gpu.ts";
import type { ForwardContext } from "../src/nn/layer.ts";
import {
  AvgPool2d,
  avgPool2d,
  avgPool2dBackward,
  GLOBAL_POOL_DIRECT_MAX,
  GlobalAvgPool,
  globalAvgPool,
  globalAvgPoolBackward,
  MaxPool2d,
  maxPool2d,
  maxPool2dBackward,
  poolShape,
} from "../src/nn/pool.ts";
import { REDUCE_LAYOUT } from "../src/ops/reduce.ts";
import { PhiloxStream } from "../src/rng/philox.ts";
import { readTensors, Tensor } from "../src/tensor.ts";
import { checkGradient64, checkGradientGpu, projection } from "./gradcheck.ts";
import {
  assertBitwiseEqual,
  assertClose,
  EPS32,
  foldedGpu,
  gpuTest,
  randomArray,
} from "./helpers.ts";
import {
  avgPoolBackwardRef,
  avgPoolRef,
  globalAvgPoolBackwardRef,
  globalAvgPoolRef,
  maxPoolBackwardRef,
  maxPoolRef,
  type PoolDims,
} from "./reference/pool.ts";

// Tolerances (float32 rounding, EPS32 = 2^-24 per operation):
// - max pooling selects values: forward and argmax exact; backward sums the T <= ceil(k/s)^2
//   gradients routed to one input: within T * EPS32 * sum of their |dy|.
// - average pooling sums k^2 values, then multiplies by fl(1/k^2): within
//   (k^2 + 1) * EPS32 * mean|x| of the window; backward adds T terms dy * fl(1/k^2), each
//   rounded twice: within (T + 1) * EPS32 * sum |dy| / k^2.
// - global average pooling: a sequential sum of hw values (depth hw), or the row reduction
//   (depth passes * (items + log2 wg)), times fl(1/hw): within (depth + 2) * EPS32 * mean|x|;
//   backward dy * fl(1/hw): 2 * EPS32 relative.

const train = (gpu: Gpu): ForwardContext => ({ gpu, training: true, seed: 0, step: 0 });
const evaluate = (gpu: Gpu): ForwardContext => ({ gpu, training: false, seed: 0, step: 0 });

function dimsOf(shape: readonly number[], k: number, s: number): PoolDims {
  const [h, w] = shape.slice(-2);
  return { planes: shape.slice(0, -2).reduce((a, b) => a * b, 1), h, w, k, s };
}

interface PoolCase {
  name: string;
  shape: number[];
  kernel: number;
  stride: number;
  x: number[];
  dy: number[];
  outShape: number[];
  max32: number[];
  maxIndices: number[];
  maxGrad32: number[];
  maxGrad64: number[];
  avg64: number[];
  avgGrad64: number[];
}

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/pool.json", import.meta.url)),
) as { cases: PoolCase[] };

gpuTest(
  "max and average pooling match PyTorch (fixture: odd sizes, stride != k, ties)",
  async (gpu) => {
    for (const c of fixture.cases) {
      const { kernel: k, stride: s } = c;
      const d = dimsOf(c.shape, k, s);
      const outShape = poolShape(c.shape.slice(1), k, s);
      if (outShape.join() !== c.outShape.slice(1).join()) {
        throw new Error(`${c.name}: output shape [${outShape}], PyTorch [${c.outShape}]`);
      }
      // The float64 references agree with PyTorch's float64 results on the same inputs.
      const refMax = maxPoolRef(c.x, d);
      const refMaxGrad = maxPoolBackwardRef(c.dy, refMax.argmax, d);
      const refAvg = avgPoolRef(c.x, d);
      const refAvgGrad = avgPoolBackwardRef(c.dy, d);
      assertBitwiseEqual(refMax.argmax, c.maxIndices, `${c.name}: reference argmax`);
      assertClose(refMaxGrad.dx, c.maxGrad64, { atol: 1e-12, rtol: 1e-12 }, `${c.name}: ref dx`);
      assertClose(refAvg.y, c.avg64, { atol: 1e-12, rtol: 1e-12 }, `${c.name}: ref avg`);
      assertClose(
        refAvgGrad.dx,
        c.avgGrad64,
        { atol: 1e-12, rtol: 1e-12 },
        `${c.name}: ref avg dx`,
      );

      const x = Tensor.from(gpu, Float32Array.from(c.x), c.shape);
      const dy = Tensor.from(gpu, Float32Array.from(c.dy), c.outShape);
      const { y, argmax } = maxPool2d(x, k, s, true);
      const dxMax = maxPool2dBackward(dy, argmax!, c.shape, k, s);
      const ya = avgPool2d(x, k, s);
      const dxAvg = avgPool2dBackward(dy, c.shape, k, s);
      const [gy, gidx, gdx, gya, gdxa] = await readTensors([y, argmax!, dxMax, ya, dxAvg]);
      assertBitwiseEqual(gy, c.max32, `${c.name}: max forward`);
      assertBitwiseEqual(gidx, c.maxIndices, `${c.name}: max indices`);
      const T = Math.ceil(k / s) ** 2;
      assertClose(gdx, c.maxGrad64, { bound: (i) => T * EPS32 * refMaxGrad.abs[i] }, c.name);
      if (c.name.startsWith("ties")) assertBitwiseEqual(gdx, c.maxGrad32, `${c.name}: exact`);
      assertClose(gya, c.avg64, {
        bound: (i) => (k * k + 1) * EPS32 * refAvg.absMean[i],
      }, `${c.name}: avg forward`);
      assertClose(gdxa, c.avgGrad64, {
        bound: (i) => (refAvgGrad.terms[i] + 1) * EPS32 * refAvgGrad.abs[i],
      }, `${c.name}: avg backward`);
      for (const t of [x, dy, y, argmax!, dxMax, ya, dxAvg]) t.dispose();
    }
  },
);

/** Runs both layers forward and backward in training on one shape and checks them. */
async function checkLayers(gpu: Gpu, shape: number[], k: number, s: number, seed: number) {
  const d = dimsOf(shape, k, s);
  const n = shape.reduce((a, b) => a * b, 1);
  const xs = randomArray(n, seed, -2, 2);
  const x = Tensor.from(gpu, xs, shape);
  const maxLayer = new MaxPool2d(k, s), avgLayer = new AvgPool2d(k, s);
  const y = maxLayer.forward(train(gpu), x), ya = avgLayer.forward(train(gpu), x);
  const dys = randomArray(y.size, seed + 1, -1, 1);
  const dy = Tensor.from(gpu, dys, y.shape);
  const dx = maxLayer.backward(train(gpu), dy), dxa = avgLayer.backward(train(gpu), dy);
  const [gy, gya, gdx, gdxa] = await readTensors([y, ya, dx, dxa]);
  const what = `[${shape}] k${k} s${s}`;
  const refMax = maxPoolRef(xs, d);
  const refMaxGrad = maxPoolBackwardRef(dys, refMax.argmax, d);
  const refAvg = avgPoolRef(xs, d);
  const refAvgGrad = avgPoolBackwardRef(dys, d);
  assertBitwiseEqual(gy, refMax.y, `max forward ${what}`);
  const T = Math.ceil(k / s) ** 2;
  assertClose(
    gdx,
    refMaxGrad.dx,
    { bound: (i) => T * EPS32 * refMaxGrad.abs[i] },
    `max dx ${what}`,
  );
  assertClose(
    gya,
    refAvg.y,
    { bound: (i) => (k * k + 1) * EPS32 * refAvg.absMean[i] },
    `avg ${what}`,
  );
  assertClose(gdxa, refAvgGrad.dx, {
    bound: (i) => (refAvgGrad.terms[i] + 1) * EPS32 * refAvgGrad.abs[i],
  }, `avg dx ${what}`);
  maxLayer.release();
  avgLayer.release();
  for (const t of [x, y, ya, dy, dx, dxa]) t.dispose();
}

gpuTest("max and average pool layers match float64 on awkward shapes", async (gpu) => {
  const cases: [number[], number, number][] = [
    [[1, 1, 1, 2, 2], 2, 2],
    [[2, 3, 4, 13, 9], 3, 2],
    [[1, 2, 3, 10, 10], 4, 3],
    [[1, 5, 3, 11, 7], 2, 1],
    [[1, 1, 2, 7, 5], 1, 2],
  ];
  for (const [i, [shape, k, s]] of cases.entries()) await checkLayers(gpu, shape, k, s, 40 + i);
});

gpuTest("pooling: folded dispatches (at most 8 workgroups per dimension)", async () => {
  const gpu = await foldedGpu();
  // Forward 2,700 outputs (11 workgroups), backward 10,800 inputs (43 workgroups).
  await checkLayers(gpu, [1, 4, 3, 30, 30], 2, 2, 7);
  await checkGlobal(gpu, [1, 300, 9, 2, 2], 8);
});

async function checkGlobal(gpu: Gpu, shape: number[], seed: number): Promise<void> {
  const n = shape.reduce((a, b) => a * b, 1);
  const hw = shape[3] * shape[4];
  const planes = n / hw;
  const xs = randomArray(n, seed, -2, 3);
  const x = Tensor.from(gpu, xs, shape);
  const layer = new GlobalAvgPool();
  const y = layer.forward(train(gpu), x);
  if (y.shape.join() !== shape.slice(0, 3).join()) throw new Error(`GAP shape [${y.shape}]`);
  const dys = randomArray(planes, seed + 1, -1, 1);
  const dy = Tensor.from(gpu, dys, y.shape);
  const dx = layer.backward(train(gpu), dy);
  const [gy, gdx] = await readTensors([y, dx]);
  const ref = globalAvgPoolRef(xs, planes);
  let depth = hw;
  if (hw > GLOBAL_POOL_DIRECT_MAX) {
    const { workgroupSize, items } = REDUCE_LAYOUT;
    let passes = 0;
    for (let m = hw; m > 1; m = Math.ceil(m / (workgroupSize * items))) passes++;
    depth = passes * (items + Math.log2(workgroupSize));
  }
  assertClose(gy, ref.y, { bound: (i) => (depth + 2) * EPS32 * ref.absMean[i] }, `GAP [${shape}]`);
  const refDx = globalAvgPoolBackwardRef(dys, hw);
  assertClose(gdx, refDx, { rtol: 2 * EPS32 }, `GAP backward [${shape}]`);
  layer.release();
  for (const t of [x, y, dy, dx]) t.dispose();
}

gpuTest("global average pooling matches float64 (short planes, 128x128, 300x300)", async (gpu) => {
  await checkGlobal(gpu, [2, 3, 5, 7, 9], 1);
  await checkGlobal(gpu, [1, 1, 1, 128, 128], 2); // the longest plane one invocation averages
  await checkGlobal(gpu, [1, 1, 2, 300, 300], 3); // 90,000 values: past lavapipe's loop cap
});

gpuTest("pool layers: eval keeps any group count and saves nothing; errors", async (gpu) => {
  const xs = randomArray(3 * 2 * 2 * 6 * 6, 9);
  const x = Tensor.from(gpu, xs, [3, 2, 2, 6, 6]);
  const live = gpu.pool.stats.live;
  const maxLayer = new MaxPool2d(3);
  if (maxLayer.outputShape([2, 7, 8]).join() !== "2,2,2") throw new Error("outputShape");
  const y = maxLayer.forward(evaluate(gpu), x);
  if (gpu.pool.stats.live !== live + 1) throw new Error("eval max pool kept an argmax");
  assertBitwiseEqual(await y.read(), maxPoolRef(xs, dimsOf(x.shape, 3, 3)).y, "eval, 3 groups");
  y.dispose();
  const yt = maxLayer.forward(train(gpu), x);
  if (gpu.pool.stats.live !== live + 2) throw new Error("training max pool should keep argmax");
  // An eval forward between a training forward and its backward leaves the saved state alone.
  maxLayer.forward(evaluate(gpu), x).dispose();
  const ones = Tensor.from(gpu, new Float32Array(yt.size).fill(1), yt.shape);
  const dx = maxLayer.backward(train(gpu), ones);
  const d = dimsOf(x.shape, 3, 3);
  const refDx = maxPoolBackwardRef(new Float64Array(yt.size).fill(1), maxPoolRef(xs, d).argmax, d);
  assertBitwiseEqual(await dx.read(), refDx.dx, "backward after an eval forward");
  for (const t of [ones, dx]) t.dispose();
  maxLayer.release();
  yt.dispose();
  if (gpu.pool.stats.live !== live) throw new Error("release did not free the argmax");
  const g = new GlobalAvgPool();
  if (g.outputShape([5, 3, 3]).join() !== "5") throw new Error("GAP outputShape");
  const yg = g.forward(evaluate(gpu), x);
  if (yg.shape.join() !== "3,2,2") throw new Error(`GAP eval shape [${yg.shape}]`);
  yg.dispose();
  const errors: [string, () => unknown][] = [
    ["backward without forward", () => new AvgPool2d(2).backward(train(gpu), x)],
    ["kernel larger than input", () => new MaxPool2d(7).forward(train(gpu), x)],
    ["kernel 0", () => new MaxPool2d(0)],
    ["fractional stride", () => new AvgPool2d(2, 1.5)],
    ["non-CHW sample", () => new MaxPool2d(2).outputShape([4, 4])],
    ["dy of the wrong shape", () => {
      const l = new AvgPool2d(2);
      l.forward(train(gpu), x).dispose();
      l.backward(train(gpu), x);
    }],
  ];
  for (const [what, f] of errors) {
    let thrown = false;
    try {
      f();
    } catch {
      thrown = true;
    }
    if (!thrown) throw new Error(`expected an error: ${what}`);
  }
  x.dispose();
  await gpu.flush();
});

/** Distinct values at least 0.05 apart, shuffled: no window has a near-tie. */
function separated(n: number, seed: number): Float32Array {
  const perm = new PhiloxStream(seed, 3, 97).permutation(n);
  return Float32Array.from(perm, (v) => (v - n / 2) * 0.05);
}

/** sum(r * run(probe)) on the GPU, as a function of the input values. */
function projectedGpu(
  gpu: Gpu,
  shape: number[],
  r: Float64Array,
  run: (x: Tensor) => Tensor,
): (probe: Float32Array) => Promise<number> {
  return async (probe) => {
    const t = Tensor.from(gpu, probe, shape);
    const y = run(t);
    const out = await y.read();
    t.dispose();
    y.dispose();
    return out.reduce((s, v, i) => s + r[i] * v, 0);
  };
}

gpuTest("pooling backward: finite differences (float64 reference and GPU)", async (gpu) => {
  const shape = [1, 2, 2, 7, 6], k = 3, s = 2;
  const d = dimsOf(shape, k, s);
  const n = 2 * 2 * 7 * 6;
  const xs = separated(n, 5);
  const outN = d.planes * 3 * 2;
  const r = projection(outN, 9);
  const dot = (y: ArrayLike<number>) => Array.from(y).reduce((a, v, i) => a + r[i] * v, 0);
  const argmax = maxPoolRef(xs, d).argmax;
  checkGradient64((v) => dot(maxPoolRef(v, d).y), xs, maxPoolBackwardRef(r, argmax, d).dx, {
    what: "max pool reference",
  });
  checkGradient64((v) => dot(avgPoolRef(v, d).y), xs, avgPoolBackwardRef(r, d).dx, {
    what: "avg pool reference",
  });
  const rg = projection(d.planes, 10);
  checkGradient64(
    (v) => Array.from(globalAvgPoolRef(v, d.planes).y).reduce((a, y, i) => a + rg[i] * y, 0),
    xs,
    globalAvgPoolBackwardRef(rg, 42),
    { what: "global pool reference" },
  );

  const x = Tensor.from(gpu, xs, shape);
  const { y, argmax: idx } = maxPool2d(x, k, s, true);
  const dy = Tensor.from(gpu, Float32Array.from(r), y.shape);
  const dyg = Tensor.from(gpu, Float32Array.from(rg), shape.slice(0, 3));
  const grads = [
    maxPool2dBackward(dy, idx!, shape, k, s),
    avgPool2dBackward(dy, shape, k, s),
    globalAvgPoolBackward(dyg, shape),
  ];
  const [gMax, gAvg, gGlobal] = await readTensors(grads);
  const opts = { atol: 1e-5, rtol: 1e-3 };
  await checkGradientGpu(
    projectedGpu(gpu, shape, r, (t) => maxPool2d(t, k, s).y),
    xs,
    gMax,
    { ...opts, what: "max pool GPU", count: 6 },
  );
  await checkGradientGpu(
    projectedGpu(gpu, shape, r, (t) => avgPool2d(t, k, s)),
    xs,
    gAvg,
    { ...opts, what: "avg pool GPU", count: 6 },
  );
  await checkGradientGpu(
    projectedGpu(gpu, shape, rg, (t) => globalAvgPool(t)),
    xs,
    gGlobal,
    { ...opts, what: "global pool GPU", count: 6 },
  );
  for (const t of [x, y, idx!, dy, dyg, ...grads]) t.dispose();
});
