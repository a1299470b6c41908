import assert from "node:assert/strict";
import { mlp } from "../src/nn/model_config.ts";
import { cnn } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { Adam } from "../src/optim/adam.ts";
import { loadCheckpoint, saveCheckpoint } from "../src/train/checkpoint.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  SafetensorsError,
} from "../src/train/safetensors.ts";
import { Tensor } from "../src/tensor.ts";
import { assertBitwiseEqual, gpuTest, randomArray } from "./helpers.ts";

Deno.test("safetensors: header length, 8-byte aligned data, metadata, round trip", () => {
  const a = { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
  const b = { shape: [1], data: Float32Array.from([-0.5]) };
  const bytes = encodeSafetensors({ a, b }, { note: "x" });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header.a, { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] });
  assert.deepEqual(header.b.data_offsets, [24, 28]);
  const back = decodeSafetensors("mem", bytes);
  assert.deepEqual(back.metadata, { note: "x" });
  assert.deepEqual([...back.tensors.a.data], [1, 2, 3, 4, 5, 6]);
  assert.throws(
    () => decodeSafetensors("f.safetensors", bytes.subarray(0, 40)),
    /f\.safetensors: .*(exceeds|range)/,
  );
  assert.throws(() => decodeSafetensors("g", new Uint8Array(4)), /g: too short/);
});

for (
  const [name, config] of [
    [
      "MLP with batch norm and dropout",
      mlp({ inputShape: [1, 6, 6], hidden: 12, layers: 2, batchNorm: true, dropout: 0.1 }),
    ],
    [
      "CNN with batch norm",
      cnn({ inputShape: [1, 6, 6], channels: 4, convLayers: 2, headChannels: 3, batchNorm: true }),
    ],
  ] as const
) {
  gpuTest(
    `a checkpoint of a ${name} round-trips exactly (outputs bit for bit, Adam state too)`,
    async (gpu) => {
      const model = new Sequential(gpu, config);
      model.initialize(11);
      // Move the running statistics and Adam's state away from their initial values.
      const x = Tensor.from(gpu, randomArray(5 * 36, 3), [1, 5, 1, 6, 6]);
      model.forward({ gpu, training: true, seed: 1, step: 0 }, x).dispose();
      model.release();
      const adam = new Adam(model.params.values, model.params.grads);
      gpu.write(model.params.grads, randomArray(model.params.grads.size, 4));
      adam.update();
      const path = await Deno.makeTempFile({ suffix: ".safetensors" });
      try {
        await saveCheckpoint(path, model, { epoch: "3" }, adam);
        const loaded = await loadCheckpoint(gpu, path);
        assert.deepEqual(loaded.model.config, config);
        assert.equal(loaded.info.epoch, "3");
        assert.equal(loaded.optimizer?.step, 1);
        assertBitwiseEqual(loaded.optimizer!.m, await adam.m.read(), "Adam m");
        const ctx = { gpu, training: false, seed: 0, step: 0 };
        const [a, b] = [model.forward(ctx, x), loaded.model.forward(ctx, x)];
        assertBitwiseEqual(await b.read(), await a.read(), "outputs");
        for (const t of [a, b]) t.dispose();
        loaded.model.dispose();
      } finally {
        await Deno.remove(path);
      }
      adam.dispose();
      x.dispose();
      model.dispose();
    },
  );
}

gpuTest("bad checkpoints give errors naming the file", async (gpu) => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => loadCheckpoint(gpu, `${dir}/none.safetensors`),
      /none\.safetensors: checkpoint not found/,
    );
    const plain = `${dir}/plain.safetensors`;
    await Deno.writeFile(
      plain,
      encodeSafetensors({ w: { shape: [1], data: new Float32Array(1) } }),
    );
    await assert.rejects(() => loadCheckpoint(gpu, plain), /plain\.safetensors: no model config/);
    const config = mlp({ inputShape: [4], hidden: 3, layers: 1 });
    const short = `${dir}/short.safetensors`;
    await Deno.writeFile(
      short,
      encodeSafetensors({ "1.weight": { shape: [3, 4], data: new Float32Array(12) } }, {
        config: JSON.stringify(config),
      }),
    );
    await assert.rejects(
      () => loadCheckpoint(gpu, short),
      (e: unknown) =>
        e instanceof SafetensorsError && /missing tensor 1\.bias/.test((e as Error).message),
    );
    const shaped = `${dir}/shape.safetensors`;
    await Deno.writeFile(
      shaped,
      encodeSafetensors({ "1.weight": { shape: [4, 3], data: new Float32Array(12) } }, {
        config: JSON.stringify(config),
      }),
    );
    await assert.rejects(
      () => loadCheckpoint(gpu, shaped),
      /1\.weight has shape \[4,3\], the model needs \[3,4\]/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
