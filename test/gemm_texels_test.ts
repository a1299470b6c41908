import assert from "node:assert/strict";
import { synthetic } from "../src/data/synthetic.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { isSoftwareAdapter } from "../src/gpu/adapter.ts";
import { lossMatrix } from "../src/landscape/loss_matrix.ts";
import { mlp } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { assertBitwiseEqual, gpuTest } from "./helpers.ts";

/**
 * Losses of a 64 -> 128 -> 10 MLP at 4 perturbed points on 256 samples, and how many texture
 * copies the products made: the first layer's product (256 x 128 per point) has enough tiles
 * of C along both sides for the register core to read x (4096 vec4s) and packed B (8192) from
 * textures on software adapters.
 */
async function perturbedLosses(gpu: Gpu): Promise<{ losses: Float32Array; copies: number }> {
  let copies = 0;
  const textureCopy = gpu.textureCopy.bind(gpu);
  gpu.textureCopy = (src, width) => (copies++, textureCopy(src, width));
  const model = new Sequential(gpu, mlp({ inputShape: [1, 8, 8], hidden: 128, layers: 1 }));
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
  "a product reads its operands from textures with the same bytes as from buffers",
  async () => {
    // x and packed B in one partial row of 4096 texels each, or in 32 and 64 rows of 128.
    using wide = await Gpu.create();
    const textured = await perturbedLosses(wide);
    using narrow = await Gpu.create({ limits: { maxTextureDimension2D: 128 } });
    const rows = await perturbedLosses(narrow);
    // 16 rows of 16 texels hold neither: the product reads both from buffers.
    using none = await Gpu.create({ limits: { maxTextureDimension2D: 16 } });
    const buffer = await perturbedLosses(none);
    assert.equal(buffer.copies, 0, "the buffer path ran");
    // Only software adapters take the texture path (their texture loads are what pays for it).
    const software = isSoftwareAdapter(wide.adapter);
    assert.equal(textured.copies >= 2 && rows.copies >= 2, software, "both operands were copied");
    assert.ok(buffer.losses.length === 4 * 256 && buffer.losses.every(Number.isFinite));
    assertBitwiseEqual(textured.losses, buffer.losses, "4096 texels a row");
    assertBitwiseEqual(rows.losses, buffer.losses, "128 texels a row");
  },
);

gpuTest("textureCopy refuses what a texture cannot hold, naming the limit", async (gpu) => {
  const buffer = gpu.pool.acquire(64 * 16, GPUBufferUsage.COPY_SRC);
  assert.throws(
    () => gpu.textureCopy({ buffer, byteOffset: 0, byteLength: 64 * 16 }, 24),
    /width that is a multiple of 16, got 24/,
  );
  assert.throws(
    () => gpu.textureCopy({ buffer, byteOffset: 0, byteLength: 60 }, 16),
    /whole vec4s at a 16-byte offset, got 60 bytes at 0/,
  );
  gpu.pool.release(buffer);
  using small = await Gpu.create({ limits: { maxTextureDimension2D: 16 } });
  const big = small.pool.acquire(17 * 16 * 16, GPUBufferUsage.COPY_SRC);
  assert.throws(
    () => small.textureCopy({ buffer: big, byteOffset: 0, byteLength: 17 * 16 * 16 }, 16),
    /16 x 17 texels exceed maxTextureDimension2D \(16\)/,
  );
});
