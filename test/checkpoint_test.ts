import assert from "node:assert/strict";
import { mlp } from "../src/nn/model_config.ts";
import { cnn } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { Adam } from "../src/optim/adam.ts";
import {
  CHECKPOINT_FORMAT,
  checkpointFromBytes,
  loadCheckpoint,
  saveCheckpoint,
} from "../src/train/checkpoint.ts";
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
        format: CHECKPOINT_FORMAT,
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
        format: CHECKPOINT_FORMAT,
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

/** Safetensors bytes with a hand-written header, for layouts the encoder never writes. */
function rawSafetensors(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

Deno.test("safetensors: overlapping, gapped or trailing bytes, bad entries and huge header lengths are refused", () => {
  const f32 = (dtype = "F32", shape = [2], data_offsets = [0, 8]) => ({
    dtype,
    shape,
    data_offsets,
  });
  const data = new Uint8Array(16);
  const cases: [Record<string, unknown>, Uint8Array, RegExp][] = [
    [
      { a: f32("F32", [2], [0, 8]), b: f32("F32", [2], [4, 12]) },
      data.subarray(0, 12),
      /b: byte range \[4, 12\) overlaps a's/,
    ],
    [
      { a: f32("F32", [2], [0, 8]), b: f32("F32", [2], [0, 8]) },
      data.subarray(0, 8),
      /overlaps a's/,
    ],
    [
      { a: f32("F32", [2], [0, 8]), b: f32("F32", [1], [12, 16]) },
      data,
      /bytes \[8, 12\) of the data belong to no tensor/,
    ],
    [{ a: f32("F32", [2], [0, 8]) }, data, /8 bytes after the last tensor's data/],
    [
      { a: f32("F32", [-2], [0, 8]) },
      data.subarray(0, 8),
      /a: "shape" must be a list of non-negative integers, got \[-2\]/,
    ],
    [
      { a: f32("F32", [2], [8, 0]) },
      data.subarray(0, 8),
      /a: "data_offsets" must be \[begin, end\]/,
    ],
    [{ a: "x" }, data, /a: header entry must be an object/],
    [
      { __metadata__: { n: 3 }, a: f32() },
      data.subarray(0, 8),
      /__metadata__\.n must be a string, got 3/,
    ],
  ];
  for (const [header, bytes, error] of cases) {
    assert.throws(() => decodeSafetensors("f.st", rawSafetensors(header, bytes)), (e: unknown) => {
      assert.ok(e instanceof SafetensorsError, String(e));
      assert.match(e.message, /^f\.st: /);
      assert.match(e.message, error);
      return true;
    });
  }
  assert.throws(
    () => decodeSafetensors("f.st", new TextEncoder().encode("\x02\0\0\0\0\0\0\0[]")),
    /header must be a JSON object/,
  );
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 60n, true);
  assert.throws(
    () => decodeSafetensors("f.st", huge),
    /header length 1152921504606846976 exceeds the file \(16 bytes\)/,
  );
});

gpuTest(
  "checkpoints are validated fully: format, config, extra tensors, Adam state, finite values",
  (gpu) => {
    const config = mlp({ inputShape: [4], hidden: 3, layers: 1 });
    const good: Record<string, { shape: number[]; data: Float32Array }> = {
      "1.weight": { shape: [3, 4], data: new Float32Array(12) },
      "1.bias": { shape: [3], data: new Float32Array(3) },
      "3.weight": { shape: [10, 3], data: new Float32Array(30) },
      "3.bias": { shape: [10], data: new Float32Array(10) },
    };
    const meta = { config: JSON.stringify(config), format: CHECKPOINT_FORMAT };
    const load = (tensors = good, metadata: Record<string, string> = meta) =>
      checkpointFromBytes(gpu, "m.safetensors", encodeSafetensors(tensors, metadata));
    load().model.dispose();
    const refused = (f: () => unknown, error: RegExp) =>
      assert.throws(f, (e: unknown) => {
        assert.ok(e instanceof SafetensorsError, String(e));
        assert.match(e.message, /^m\.safetensors: /);
        assert.match(e.message, error);
        return true;
      });
    refused(
      () => load(good, { ...meta, format: "landscape-9" }),
      /__metadata__\.format is "landscape-9"; this version reads "landscape-1"/,
    );
    refused(() => load(good, { config: meta.config }), /__metadata__\.format is null/);
    refused(() => load(good, { ...meta, config: "{garbage" }), /__metadata__\.config is not JSON/);
    refused(() => load(good, { ...meta, config: "[1]" }), /__metadata__\.config must be a model/);
    const extra = { ...good, "9.weight": { shape: [1], data: new Float32Array(1) } };
    refused(() => load(extra), /tensor 9\.weight not in the model "mlp"/);
    const nan = new Float32Array(30);
    nan[7] = NaN;
    refused(
      () => load({ ...good, "3.weight": { shape: [10, 3], data: nan } }),
      /3\.weight holds NaN at index 7; weights must be finite/,
    );
    const inf = Float32Array.from([0, -Infinity, 0]);
    refused(
      () => load({ ...good, "1.bias": { shape: [3], data: inf } }),
      /1\.bias holds -Infinity at index 1/,
    );
    const moment = { shape: [1], data: new Float32Array(1) };
    refused(() => load({ ...good, "optimizer.m": moment }), /optimizer\.v is missing/);
    refused(
      () => load({ ...good, "optimizer.m": moment, "optimizer.v": moment }),
      /optimizer\.m has 1 values, the model has \d+ parameters/,
    );
  },
);
