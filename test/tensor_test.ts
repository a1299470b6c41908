import assert from "node:assert/strict";
import { readTensors, shapeSize, Tensor } from "../src/tensor.ts";
import { gpuTest } from "./helpers.ts";

gpuTest("tensors round-trip f32, u32 and i32 data in one readback", async (gpu) => {
  const f = Tensor.from(gpu, new Float32Array([1.5, -2, 3e-8]), [3]);
  const u = Tensor.from(gpu, new Uint32Array([0, 0xffffffff, 7]));
  const i = Tensor.from(gpu, [-5, 0, 2 ** 31 - 1], [1, 3], "i32");
  const [fv, uv, iv] = await readTensors([f, u, i]);
  assert.deepEqual([...fv], [1.5, -2, Math.fround(3e-8)]);
  assert.deepEqual([...uv], [0, 0xffffffff, 7]);
  assert.ok(iv instanceof Int32Array);
  assert.deepEqual([...iv], [-5, 0, 2 ** 31 - 1]);
  assert.deepEqual(i.shape, [1, 3]);
  for (const t of [f, u, i]) t.dispose();
});

gpuTest("views and reshapes share storage; zeros are zero", async (gpu) => {
  const t = Tensor.from(gpu, Float32Array.from({ length: 12 }, (_, k) => k), [3, 4]);
  const row = t.view([4], 8);
  assert.deepEqual([...await row.read()], [8, 9, 10, 11]);
  assert.deepEqual(t.reshape([2, 6]).shape, [2, 6]);
  assert.throws(() => t.reshape([5]), /cannot reshape/);
  assert.throws(() => t.view([4], 9), /exceeds/);
  const z = Tensor.zeros(gpu, [5, 7]);
  assert.deepEqual([...await z.read()], new Array(35).fill(0));
  t.dispose();
  z.dispose();
});

gpuTest("bad shapes and sizes are rejected with the shape in the message", async (gpu) => {
  assert.throws(() => Tensor.from(gpu, [1, 2, 3], [2, 2]), /do not fill shape \[2,2\]/);
  assert.throws(() => Tensor.empty(gpu, [2, -1]), /bad tensor shape/);
  assert.equal(shapeSize([]), 1);
  assert.equal(shapeSize([3, 0]), 0);
  const empty = Tensor.empty(gpu, [0]);
  assert.deepEqual([...await empty.read()], []);
  empty.dispose();
  await gpu.flush();
});
