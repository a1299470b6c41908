import type { Gpu } from "../src/gpu/gpu.ts";
import type { ForwardContext } from "../src/nn/layer.ts";
import { ReLU, relu, reluBackward } from "../src/nn/relu.ts";
import { readTensors, Tensor } from "../src/tensor.ts";
import { checkGradient64, checkGradientGpu, projection } from "./gradcheck.ts";
import { assertBitwiseEqual, foldedGpu, gpuTest, randomArray } from "./helpers.ts";
import { reluBackwardRef, reluRef } from "./reference/relu.ts";

// ReLU and its gradient select or zero values, so the GPU must equal float64 exactly.

const train = (gpu: Gpu): ForwardContext => ({ gpu, training: true, seed: 1, step: 0 });

/** Random values with exact zeros, -0 and a NaN mixed in. */
function inputs(n: number, seed: number): Float32Array {
  const x = randomArray(n, seed, -2, 2);
  for (let i = 0; i < n; i += 5) x[i] = 0;
  for (let i = 2; i < n; i += 11) x[i] = -0;
  if (n > 3) x[3] = NaN;
  return x;
}

async function checkShape(gpu: Gpu, shape: number[], seed: number): Promise<void> {
  const n = shape.reduce((a, b) => a * b, 1);
  const xs = inputs(n, seed), dys = randomArray(n, seed + 1, -1, 1);
  const layer = new ReLU();
  const x = Tensor.from(gpu, xs, shape), dy = Tensor.from(gpu, dys, shape);
  const y = layer.forward(train(gpu), x);
  const dx = layer.backward(train(gpu), dy);
  const [gy, gdx] = await readTensors([y, dx]);
  // +0 and -0 both map to 0 (sign ignored by the comparison): compare with 0 added.
  assertBitwiseEqual(Float32Array.from(gy, (v) => v + 0), reluRef(xs), `relu [${shape}]`);
  assertBitwiseEqual(gdx, reluBackwardRef(xs, dys), `relu backward [${shape}]`);
  layer.release();
  for (const t of [x, dy, y, dx]) t.dispose();
}

gpuTest("relu forward and backward equal float64 exactly on awkward shapes", async (gpu) => {
  // The last two have a multiple of 4 values: the kernels run four at a time.
  const shapes = [
    [1, 1, 1],
    [1, 3, 7],
    [2, 5, 3, 11, 13],
    [1, 7, 9363],
    [1, 3, 33_335],
    [1, 1, 4],
    [2, 8, 1001],
  ];
  for (const [i, shape] of shapes.entries()) await checkShape(gpu, shape, 10 + i);
});

gpuTest("relu: folded dispatch (11 workgroups as 6 x 2, at most 8 per dimension)", async () => {
  const gpu = await foldedGpu();
  await checkShape(gpu, [1, 10, 271], 3);
});

gpuTest("relu: NaN passes forward, gradient at 0 is 0", async (gpu) => {
  const x = Tensor.from(gpu, [NaN, 0, -1, 2], [1, 1, 4]);
  const dy = Tensor.from(gpu, [5, 6, 7, 8], [1, 1, 4]);
  const y = relu(x), dx = reluBackward(x, dy);
  const [gy, gdx] = await readTensors([y, dx]);
  if (!Number.isNaN(gy[0])) throw new Error(`relu(NaN) = ${gy[0]}`);
  assertBitwiseEqual(gy.slice(1), [0, 0, 2], "relu");
  assertBitwiseEqual(gdx, [5, 0, 0, 8], "relu backward");
  for (const t of [x, dy, y, dx]) t.dispose();
});

gpuTest(
  "relu layer: eval keeps any group count, backward needs a training forward",
  async (gpu) => {
    const layer = new ReLU();
    if (layer.outputShape([3, 4, 5]).join() !== "3,4,5") throw new Error("outputShape");
    if (layer.paramSpecs([3, 4, 5]).length !== 0) throw new Error("relu has no parameters");
    const live = gpu.pool.stats.live;
    const xs = randomArray(4 * 2 * 6, 5);
    const x = Tensor.from(gpu, xs, [4, 2, 6]);
    const y = layer.forward({ gpu, training: false, seed: 0, step: 0 }, x);
    if (y.shape.join() !== "4,2,6") throw new Error(`eval output [${y.shape}]`);
    assertBitwiseEqual(await y.read(), reluRef(xs), "relu eval, 4 groups");
    let message = "";
    try {
      layer.backward(train(gpu), x);
    } catch (e) {
      message = (e as Error).message;
    }
    if (!message.includes("without a training forward")) throw new Error(`got "${message}"`);
    x.dispose();
    y.dispose();
    if (gpu.pool.stats.live !== live) throw new Error("relu leaked buffers");
  },
);

gpuTest("relu backward: finite differences (float64 reference and GPU)", async (gpu) => {
  const n = 40;
  // |x| >= 0.1, away from the kink, so steps of 1e-2 never cross it.
  const xs = Float32Array.from(randomArray(n, 21, 0.1, 1), (v, i) => (i % 2 ? v : -v));
  const r = projection(n, 4);
  checkGradient64(
    (v) => reluRef(v).reduce((s, y, i) => s + r[i] * y, 0),
    xs,
    reluBackwardRef(xs, r),
    { what: "relu reference" },
  );
  const x = Tensor.from(gpu, xs, [1, 4, 10]), dy = Tensor.from(gpu, Float32Array.from(r), x.shape);
  const dx = reluBackward(x, dy);
  const grad = await dx.read();
  await checkGradientGpu(
    async (probe) => {
      const t = Tensor.from(gpu, probe, x.shape);
      const y = relu(t);
      const out = await y.read();
      t.dispose();
      y.dispose();
      return out.reduce((s, v, i) => s + r[i] * v, 0);
    },
    xs,
    grad,
    { what: "relu GPU", atol: 1e-5, rtol: 1e-4 },
  );
  for (const t of [x, dy, dx]) t.dispose();
});
