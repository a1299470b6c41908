import { Flatten } from "../src/nn/flatten.ts";
import type { ForwardContext } from "../src/nn/layer.ts";
import { Tensor } from "../src/tensor.ts";
import { assertBitwiseEqual, gpuTest, randomArray } from "./helpers.ts";

// Flatten moves no data: its reference is the identity on the row-major elements, so the
// views must share storage and read back bit for bit.

gpuTest("flatten: forward and backward are views with the right shapes", async (gpu) => {
  const ctx: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
  const layer = new Flatten();
  if (layer.outputShape([3, 5, 7]).join() !== "105") throw new Error("outputShape");
  if (layer.paramSpecs([3, 5, 7]).length !== 0) throw new Error("flatten has no parameters");
  const xs = randomArray(2 * 3 * 5 * 7, 1);
  const x = Tensor.from(gpu, xs, [1, 2, 3, 5, 7]);
  const live = gpu.pool.stats.live;
  const y = layer.forward(ctx, x);
  if (y.shape.join() !== "1,2,105") throw new Error(`forward shape [${y.shape}]`);
  if (y.buffer !== x.buffer || y.byteOffset !== x.byteOffset) throw new Error("not a view");
  assertBitwiseEqual(await y.read(), xs, "flattened values");
  const dys = randomArray(2 * 105, 2);
  const dy = Tensor.from(gpu, dys, [1, 2, 105]);
  const dx = layer.backward(ctx, dy);
  if (dx.shape.join() !== "1,2,3,5,7") throw new Error(`backward shape [${dx.shape}]`);
  if (dx.buffer !== dy.buffer) throw new Error("backward is not a view");
  assertBitwiseEqual(await dx.read(), dys, "unflattened gradient");
  y.dispose(); // views: no-ops
  dx.dispose();
  if (gpu.pool.stats.live !== live + 1) throw new Error("flatten allocated storage");
  layer.release();
  let message = "";
  try {
    layer.backward(ctx, dy);
  } catch (e) {
    message = (e as Error).message;
  }
  if (!message.includes("without a training forward")) throw new Error(`got "${message}"`);
  x.dispose();
  dy.dispose();
});

gpuTest("flatten: eval keeps any group count; a mismatched dy is rejected", async (gpu) => {
  const layer = new Flatten();
  const x = Tensor.zeros(gpu, [4, 3, 2, 2, 2]);
  const y = layer.forward({ gpu, training: false, seed: 0, step: 0 }, x);
  if (y.shape.join() !== "4,3,8") throw new Error(`eval shape [${y.shape}]`);
  const train: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
  layer.forward(train, x);
  const bad = Tensor.zeros(gpu, [4, 3, 9]);
  let thrown = false;
  try {
    layer.backward(train, bad);
  } catch {
    thrown = true;
  }
  if (!thrown) throw new Error("expected an error for dy [4,3,9]");
  x.dispose();
  bad.dispose();
  await gpu.flush();
});
