import assert from "node:assert/strict";
import { synthetic } from "../src/data/synthetic.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { isSoftwareAdapter } from "../src/gpu/adapter.ts";
import { lossMatrix } from "../src/landscape/loss_matrix.ts";
import { mlp } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { assertBitwiseEqual, gpuTest } from "./helpers.ts";

/**
 * Losses of a 64 -> 32 -> 10 MLP at 4 perturbed points on 256 samples, and how many texture
 * copies the products made: the first layer's product has 256 rows of C, enough tile rows for
 * the register core to read packed B (2048 vec4s) from a texture on software adapters.
 */
async function perturbedLosses(gpu: Gpu): Promise<{ losses: Float32Array; copies: number }> {
  let copies = 0;
  const textureCopy = gpu.textureCopy.bind(gpu);
  gpu.textureCopy = (src, width) => (copies++, textureCopy(src, width));
  const model = new Sequential(gpu, mlp({ inputShape: [1, 8, 8], hidden: 32, layers: 1 }));
  model.initialize(3);
  const dataset = synthetic({ samples: 256, seed: 4 });
  const points = { mode: "full", count: 4, seed: 9, sigma: 0.05 } as const;
  const matrix = await lossMatrix(model, { dataset, loss: "cross-entropy" }, points);
  const losses = await matrix.read();
  matrix.dispose();
  model.dispose();
  return { losses, copies };
}

gpuTest(
  "a product reads packed B from a texture with the same bytes as from its buffer",
  async () => {
    // Packed B holds 2048 vec4s: one partial row of 4096 texels, or 32 rows of 64.
    using wide = await Gpu.create();
    const textured = await perturbedLosses(wide);
    using narrow = await Gpu.create({ limits: { maxTextureDimension2D: 64 } });
    const rows = await perturbedLosses(narrow);
    // 16 texels a row cannot hold 2048 vec4s in 16 rows: the product reads the buffer.
    using none = await Gpu.create({ limits: { maxTextureDimension2D: 16 } });
    const buffer = await perturbedLosses(none);
    assert.equal(buffer.copies, 0, "the buffer path ran");
    // Only software adapters take the texture path (their texture loads are what pays for it).
    const software = isSoftwareAdapter(wide.adapter);
    assert.equal(textured.copies > 0 && rows.copies > 0, software, "the texture path ran");
    assert.ok(buffer.losses.length === 4 * 256 && buffer.losses.every(Number.isFinite));
    assertBitwiseEqual(textured.losses, buffer.losses, "4096 texels a row");
    assertBitwiseEqual(rows.losses, buffer.losses, "64 texels a row");
  },
);

gpuTest("textureCopy refuses what a texture cannot hold, naming the limit", async (gpu) => {
  const view = { buffer: gpu.pool.acquire(64 * 16, GPUBufferUsage.COPY_SRC), byteOffset: 0 };
  assert.throws(() => gpu.textureCopy({ ...view, byteLength: 64 * 16 }, 24), /multiple of 16/);
  assert.throws(() => gpu.textureCopy({ ...view, byteLength: 60 }, 16), /whole vec4s/);
  using small = await Gpu.create({ limits: { maxTextureDimension2D: 16 } });
  const big = { buffer: small.pool.acquire(17 * 16 * 16, GPUBufferUsage.COPY_SRC), byteOffset: 0 };
  assert.throws(
    () => small.textureCopy({ ...big, byteLength: 17 * 16 * 16 }, 16),
    /16 x 17 texels exceed maxTextureDimension2D \(16\)/,
  );
});
