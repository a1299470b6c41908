import type { Gpu } from "../src/gpu/gpu.ts";
import { Dropout, dropout, type DropoutKey } from "../src/nn/dropout.ts";
import type { ForwardContext } from "../src/nn/layer.ts";
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
import { dropoutMaskRef, dropoutRef } from "./reference/dropout.ts";

// Kept values are x * fl(1 / (1 - p)): the scale rounded once to float32, the product once
// more, so within 2 * EPS32 relative of x / (1 - p). Dropped values are exactly 0. The mask is
// compared with the CPU Philox twin bit for bit.

const ctx = (gpu: Gpu, step: number, training = true): ForwardContext => ({
  gpu,
  training,
  seed: 1234,
  step,
});

/** Keep flags read from the GPU: dropout of ones, nonzero where kept. */
async function gpuMask(gpu: Gpu, n: number, p: number, key: DropoutKey): Promise<Uint8Array> {
  const ones = Tensor.from(gpu, new Float32Array(n).fill(1), [1, 1, n]);
  const y = dropout(ones, p, key);
  const out = await y.read();
  ones.dispose();
  y.dispose();
  const scale = Math.fround(1 / (1 - p));
  return Uint8Array.from(out, (v, i) => {
    if (v !== 0 && v !== scale) throw new Error(`mask value [${i}] = ${v}, not 0 or ${scale}`);
    return v === scale ? 1 : 0;
  });
}

async function checkAgainstReference(gpu: Gpu, shape: number[], p: number, key: DropoutKey) {
  const n = shape.reduce((a, b) => a * b, 1);
  const keep = dropoutMaskRef(n, p, key.seed, key.step, key.salt ?? 0);
  assertBitwiseEqual(await gpuMask(gpu, n, p, key), keep, `mask [${shape}] p=${p}`);
  const xs = randomArray(n, n + 3, -3, 3);
  const x = Tensor.from(gpu, xs, shape);
  const y = dropout(x, p, key);
  const ref = dropoutRef(xs, keep, p);
  assertClose(await y.read(), ref, { rtol: 2 * EPS32 }, `dropout [${shape}] p=${p}`);
  x.dispose();
  y.dispose();
}

gpuTest("dropout mask and values match the CPU Philox reference on awkward shapes", async (gpu) => {
  const shapes = [[1, 1, 1], [1, 1, 7], [2, 3, 5, 7], [1, 5, 1001], [1, 7, 9363]];
  for (const [i, shape] of shapes.entries()) {
    await checkAgainstReference(gpu, shape, [0.5, 0.1, 0.3, 0.25, 0.9][i], {
      seed: 77 + i,
      step: 3 * i,
      salt: i,
    });
  }
});

gpuTest("dropout: folded dispatch (11 workgroups as 6 x 2, at most 8 per dimension)", async () => {
  const gpu = await foldedGpu();
  await checkAgainstReference(gpu, [1, 3, 3601], 0.4, { seed: 5, step: 9, salt: 1 });
});

gpuTest("dropout mask is reproducible and differs across salt, step and seed", async (gpu) => {
  const n = 4099, p = 0.3;
  const key = { seed: 42, step: 10, salt: 2 };
  const base = await gpuMask(gpu, n, p, key);
  assertBitwiseEqual(await gpuMask(gpu, n, p, { ...key }), base, "same key, same mask");
  // Independent masks of keep rate 0.7 differ in 2 * 0.7 * 0.3 = 42% of elements.
  for (const other of [{ ...key, salt: 3 }, { ...key, step: 11 }, { ...key, seed: 43 }]) {
    const mask = await gpuMask(gpu, n, p, other);
    const differ = mask.reduce((s, v, i) => s + (v !== base[i] ? 1 : 0), 0) / n;
    if (!(differ > 0.35 && differ < 0.49)) {
      throw new Error(`mask of ${JSON.stringify(other)} differs in ${differ} of elements`);
    }
  }
});

gpuTest("dropout keeps 1 - p of 10^6 elements, within 5 standard errors", async (gpu) => {
  const n = 1_000_000;
  for (const p of [0.3, 0.9]) {
    const kept = (await gpuMask(gpu, n, p, { seed: 9, step: 1, salt: 0 }))
      .reduce((s, v) => s + v, 0);
    const se = Math.sqrt(p * (1 - p) / n);
    if (!(Math.abs(kept / n - (1 - p)) <= 5 * se)) {
      throw new Error(`p=${p}: kept fraction ${kept / n}, expected ${1 - p} +- ${5 * se}`);
    }
  }
});

gpuTest("dropout layer: backward regenerates the forward mask", async (gpu) => {
  const shape = [1, 6, 77], n = 6 * 77, p = 0.4;
  const layer = new Dropout(p, 5);
  const xs = randomArray(n, 1, -2, 2), dys = randomArray(n, 2, -2, 2);
  const x = Tensor.from(gpu, xs, shape), dy = Tensor.from(gpu, dys, shape);
  const live = gpu.pool.stats.live;
  const y = layer.forward(ctx(gpu, 17), x);
  // The step moving on between forward and backward must not change the mask.
  const dx = layer.backward(ctx(gpu, 18), dy);
  const [gy, gdx] = await readTensors([y, dx]);
  const keep = dropoutMaskRef(n, p, 1234, 17, 5);
  assertBitwiseEqual(Uint8Array.from(gy, (v) => (v !== 0 ? 1 : 0)), keep, "forward mask");
  assertBitwiseEqual(Uint8Array.from(gdx, (v) => (v !== 0 ? 1 : 0)), keep, "backward mask");
  assertClose(gdx, dropoutRef(dys, keep, p), { rtol: 2 * EPS32 }, "dx");
  layer.release();
  y.dispose();
  dx.dispose();
  if (gpu.pool.stats.live !== live) throw new Error("dropout leaked buffers");
  for (const t of [x, dy]) t.dispose();
});

gpuTest("dropout: eval is the identity (a view, any group count); p = 0 is exact", async (gpu) => {
  const xs = randomArray(3 * 4 * 5, 8);
  xs[0] = -0;
  const x = Tensor.from(gpu, xs, [3, 4, 5]);
  const layer = new Dropout(0.5, 1);
  const live = gpu.pool.stats.live;
  const view = layer.forward(ctx(gpu, 0, false), x);
  if (view.buffer !== x.buffer || view.byteOffset !== x.byteOffset) {
    throw new Error("eval dropout should return a view of its input");
  }
  if (view.shape.join() !== "3,4,5") throw new Error(`eval shape [${view.shape}]`);
  if (gpu.pool.stats.live !== live) throw new Error("eval dropout allocated");
  let message = "";
  try {
    layer.backward(ctx(gpu, 0), x);
  } catch (e) {
    message = (e as Error).message;
  }
  if (!message.includes("without a training forward")) throw new Error(`got "${message}"`);
  const identity = new Dropout(0, 1);
  const y = identity.forward(ctx(gpu, 4), x);
  const dx = identity.backward(ctx(gpu, 4), x);
  const [gy, gdx] = await readTensors([y, dx]);
  assertBitwiseEqual(gy, xs, "p = 0 forward");
  assertBitwiseEqual(gdx, xs, "p = 0 backward");
  for (const t of [x, y, dx]) t.dispose();
});

gpuTest("dropout rejects p outside [0, 1) and bad salt or step", async (gpu) => {
  for (const bad of [() => new Dropout(1), () => new Dropout(-0.1), () => new Dropout(NaN)]) {
    let thrown = false;
    try {
      bad();
    } catch {
      thrown = true;
    }
    if (!thrown) throw new Error("expected an error for a bad p");
  }
  for (const bad of [() => new Dropout(0.5, 1.5), () => new Dropout(0.5, -1)]) {
    let thrown = false;
    try {
      bad();
    } catch {
      thrown = true;
    }
    if (!thrown) throw new Error("expected an error for a bad salt");
  }
  const x = Tensor.zeros(gpu, [1, 1, 4]);
  let thrown = false;
  try {
    new Dropout(0.5).forward(ctx(gpu, -1), x);
  } catch {
    thrown = true;
  }
  if (!thrown) throw new Error("expected an error for a negative step");
  x.dispose();
  await gpu.flush();
});

gpuTest("dropout backward: finite differences (float64 reference and GPU)", async (gpu) => {
  const n = 48, p = 0.25, key = { seed: 3, step: 2, salt: 1 };
  const keep = dropoutMaskRef(n, p, key.seed, key.step, key.salt);
  const xs = randomArray(n, 31, -1, 1);
  const r = projection(n, 6);
  checkGradient64(
    (v) => dropoutRef(v, keep, p).reduce((s, y, i) => s + r[i] * y, 0),
    xs,
    dropoutRef(r, keep, p),
    { what: "dropout reference" },
  );
  const dy = Tensor.from(gpu, Float32Array.from(r), [1, 4, 12]);
  const dx = dropout(dy, p, key);
  const grad = await dx.read();
  await checkGradientGpu(
    async (probe) => {
      const t = Tensor.from(gpu, probe, [1, 4, 12]);
      const y = dropout(t, p, key);
      const out = await y.read();
      t.dispose();
      y.dispose();
      return out.reduce((s, v, i) => s + r[i] * v, 0);
    },
    xs,
    grad,
    { what: "dropout GPU", atol: 1e-5, rtol: 1e-4 },
  );
  dy.dispose();
  dx.dispose();
});
