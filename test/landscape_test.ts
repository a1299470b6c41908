import assert from "node:assert/strict";
import { synthetic } from "../src/data/synthetic.ts";
import { interleave, randomDirections } from "../src/landscape/directions.ts";
import { estimateDelta } from "../src/landscape/estimate.ts";
import { gaussian2, integrandMaps, lossSurface } from "../src/landscape/grid.ts";
import { type EvalData, lossMatrix } from "../src/landscape/loss_matrix.ts";
import { landscapeWidth } from "../src/landscape/width.ts";
import { cnn, mlp } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { assertClose, gpuTest } from "./helpers.ts";

async function trainedLike(gpu: Gpu, batchNorm = true): Promise<Sequential> {
  const model = new Sequential(
    gpu,
    mlp({ inputShape: [1, 8, 8], hidden: 10, layers: 2, batchNorm }),
  );
  model.initialize(9);
  await gpu.flush();
  return model;
}

gpuTest(
  "directions are filter-normalised, zero on biases and norms unless asked, seeded",
  async (gpu) => {
    const model = new Sequential(
      gpu,
      cnn({ inputShape: [1, 6, 6], channels: 3, convLayers: 1, headChannels: 2, batchNorm: true }),
    );
    model.initialize(1);
    const w = await model.params.values.read();
    const [d, e] = await randomDirections(model, 2, { seed: 4 });
    const [d2] = await randomDirections(model, 1, { seed: 4 });
    assert.deepEqual(d2, d);
    assert.notDeepEqual(e, d);
    for (const entry of model.params.entries.filter((x) => x.spec.kind !== "running")) {
      const at = entry.binding.offset, n = entry.binding.value.size;
      if (entry.spec.shape.length < 2) {
        assert.ok(d.subarray(at, at + n).every((v) => v === 0), `${entry.key} direction is zero`);
        continue;
      }
      const len = n / entry.spec.shape[0];
      for (let f = 0; f < entry.spec.shape[0]; f++) {
        const norm = (a: Float32Array) =>
          Math.sqrt(a.subarray(at + f * len, at + (f + 1) * len).reduce((s, v) => s + v * v, 0));
        assert.ok(
          Math.abs(norm(d) - norm(w)) <= 1e-5 * norm(w),
          `${entry.key} filter ${f}: ${norm(d)} vs ${norm(w)}`,
        );
      }
    }
    const [withBias] = await randomDirections(model, 1, { seed: 4, includeBiasAndNorm: true });
    const bias = model.params.entries.find((x) => x.key === "0.bias")!;
    assert.deepEqual(
      withBias.subarray(bias.binding.offset, bias.binding.offset + 3),
      w.subarray(bias.binding.offset, bias.binding.offset + 3),
    );
    const [unit] = await randomDirections(model, 1, { seed: 4, globalNorm: 2.5 });
    assert.ok(Math.abs(Math.sqrt(unit.reduce((s, v) => s + v * v, 0)) - 2.5) < 1e-5);
    const t = interleave(model, [d, e]);
    const host = await t.read();
    assert.deepEqual(t.shape, [d.length, 4]);
    assert.equal(host[5 * 4], d[5]);
    assert.equal(host[5 * 4 + 1], e[5]);
    assert.equal(host[5 * 4 + 2], 0);
    t.dispose();
    model.dispose();
  },
);

gpuTest(
  "the loss surface equals the mean loss at w* + a u + b v (and w* at the centre)",
  async (gpu) => {
    const model = await trainedLike(gpu);
    const data: EvalData = { dataset: synthetic({ samples: 40, seed: 5 }), loss: "cross-entropy" };
    const options = { seed: 3, resolution: 5, range: [-0.5, 0.5] as [number, number] };
    const surface = await lossSurface(model, data, options);
    assert.equal(surface.values.length, 25);
    const center = await lossMatrix(model, data, { mode: "center" });
    const c = await center.read();
    const mean = c.reduce((s, v) => s + v, 0) / c.length;
    assert.ok(
      Math.abs(surface.values[12] - mean) < 1e-6,
      `centre ${surface.values[12]} vs ${mean}`,
    );
    // Corner (a, b) = (-0.5, 0.5) with the materialised weights.
    const [u, v] = await randomDirections(model, 2, options);
    const w = await model.params.values.read();
    gpu.write(model.params.values, w.map((x, i) => x - 0.5 * u[i] + 0.5 * v[i]));
    const corner = await lossMatrix(model, data, { mode: "center" });
    const k = await corner.read();
    const cornerMean = k.reduce((s, x) => s + x, 0) / k.length;
    assert.ok(
      Math.abs(surface.values[4] - cornerMean) < 1e-4 * Math.max(1, cornerMean),
      `corner ${surface.values[4]} vs ${cornerMean}`,
    );
    gpu.write(model.params.values, w);
    for (const t of [center, corner]) t.dispose();
    model.dispose();
  },
);

gpuTest("integrand maps are (L_{k+1} - L_k)^2 times the Gaussian density", async (gpu) => {
  const model = await trainedLike(gpu);
  const data: EvalData = { dataset: synthetic({ samples: 12, seed: 6 }), loss: "cross-entropy" };
  const options = { seed: 8, resolution: 3, range: [-0.2, 0.2] as [number, number] };
  const sigma = 0.15;
  const maps = await integrandMaps(model, data, [1, 5, 11], sigma, options);
  const [u, v] = await randomDirections(model, 2, options);
  const w = await model.params.values.read();
  gpu.write(model.params.values, w.map((x, i) => x + 0.2 * u[i] - 0.2 * v[i])); // point (2, 0)
  const row = await lossMatrix(model, data, { mode: "center" });
  const l = await row.read();
  for (const { k, map } of maps) {
    const mean = (m: number) => l.subarray(0, m).reduce((s, x) => s + x, 0) / m;
    const want = (mean(k + 1) - mean(k)) ** 2 * gaussian2(0.2, -0.2, sigma);
    assertClose([map.values[2 * 3 + 0]], [want], { rtol: 1e-3, atol: 1e-9 }, `k = ${k}`);
  }
  await assert.rejects(
    () => integrandMaps(model, data, [12], sigma, options),
    /k = 12 needs 13 samples/,
  );
  gpu.write(model.params.values, w);
  row.dispose();
  model.dispose();
});

gpuTest("width: positive, grows with the rise that defines the edge, reproducible", async (gpu) => {
  const model = await trainedLike(gpu);
  const data: EvalData = { dataset: synthetic({ samples: 64, seed: 7 }), loss: "cross-entropy" };
  const narrow = await landscapeWidth(model, data, {
    seed: 2,
    directions: 3,
    rise: 0.2,
    maxRadius: 3,
    steps: 30,
  });
  const wide = await landscapeWidth(model, data, {
    seed: 2,
    directions: 3,
    rise: 1.0,
    maxRadius: 3,
    steps: 30,
  });
  const again = await landscapeWidth(model, data, {
    seed: 2,
    directions: 3,
    rise: 0.2,
    maxRadius: 3,
    steps: 30,
  });
  assert.equal(narrow.radii.length, 6);
  assert.ok(narrow.radius > 0 && narrow.radius < wide.radius, `${narrow.radius} < ${wide.radius}`);
  assert.deepEqual(again.radii, narrow.radii);
  assert.ok(narrow.radii.every((r, i) => r <= wide.radii[i]));
  model.dispose();
});

gpuTest("estimateDelta: full and subspace modes; the subspace dimension matters", async (gpu) => {
  const model = await trainedLike(gpu, false);
  const data = synthetic({ samples: 200, seed: 8 });
  const common = { sigma: 0.05, points: 64, samples: 60, seed: 1 };
  const full = await estimateDelta(model, data, common);
  assert.equal(full.k.length, 59);
  assert.ok(full.delta.every((v) => v > 0 && Number.isFinite(v)));
  const mean = (c: typeof full) => c.delta.reduce((s, v) => s + v, 0) / c.delta.length;
  const seMean = (c: typeof full) => Math.sqrt(c.se.reduce((s, v) => s + v * v, 0)) / c.se.length;
  const d1 = await estimateDelta(model, data, { ...common, sigma: 0.3, mode: "subspace", dim: 1 });
  const d16 = await estimateDelta(model, data, {
    ...common,
    sigma: 0.3,
    mode: "subspace",
    dim: 16,
  });
  // More directions at the same per-coefficient sigma move the weights further: Δ grows.
  assert.ok(
    mean(d16) > mean(d1) + 3 * (seMean(d1) + seMean(d16)),
    `dim 16 ${mean(d16)} vs dim 1 ${mean(d1)}`,
  );
  const again = await estimateDelta(model, data, {
    ...common,
    sigma: 0.3,
    mode: "subspace",
    dim: 16,
  });
  assert.deepEqual(again.delta, d16.delta);
  await assert.rejects(
    () => estimateDelta(model, data, { ...common, sigma: 0 }),
    /sigma must be > 0/,
  );
  await assert.rejects(
    () => estimateDelta(model, data, { ...common, samples: 500 }),
    /between 2 and 200 samples/,
  );
  model.dispose();
});

Deno.test({
  name: "directions too large for one binding are rejected naming the limit",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const small = await Gpu.create({ limits: { maxStorageBufferBindingSize: 4096 } });
    const model = new Sequential(small, mlp({ inputShape: [4], hidden: 4, layers: 1 }));
    const many = Array.from({ length: 9 }, () => new Float32Array(model.params.values.size));
    assert.throws(() => interleave(model, many), /maxStorageBufferBindingSize of 4096/);
    model.dispose();
    small.destroy();
  },
});
