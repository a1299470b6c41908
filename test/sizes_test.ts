/** Size checks: the first need above its cap, named with the largest values that fit. */
import assert from "node:assert/strict";
import { cnn, mlp } from "../src/nn/model_config.ts";
import { flatParameterLength, Sequential } from "../src/nn/sequential.ts";
import {
  type Budget,
  directionsFootprint,
  footprintNeeds,
  lossMatrixFootprint,
  size,
  together,
} from "../src/landscape/needs.ts";
import { formatBytes, sizeProblem } from "../src/landscape/sizes.ts";
import { gpuTest } from "./helpers.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { synthetic } from "../src/data/synthetic.ts";
import { estimateDelta } from "../src/landscape/estimate.ts";
import { gridMeans } from "../src/landscape/grid.ts";
import { widthCurve } from "../src/landscape/width.ts";

const MiB = 2 ** 20;
const budget = (host?: number, deviceInHost = false): Budget => ({
  buffer: { amount: 128 * MiB, name: "the binding limit", unit: "bytes" },
  host: host === undefined ? undefined : { amount: host, name: "host memory", unit: "bytes" },
  deviceInHost,
});

Deno.test("sizes: bytes read as a person reads them", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(128 * MiB), "128 MiB");
  assert.equal(formatBytes(47.7 * 2 ** 30), "47.7 GiB");
});

Deno.test("sizes: the error names every option of the need and the largest value that fits", () => {
  const needs = footprintNeeds(
    "Δk",
    lossMatrixFootprint(size("--points"), size("--samples")),
    budget(),
  );
  const sizes = [
    { name: "--points", value: 100_000, min: 2 },
    { name: "--samples", value: 2000, min: 3 },
  ];
  const problem = sizeProblem(sizes, needs)!;
  assert.match(problem, /^--points 100000 with --samples 2000 needs 763 MiB for the loss matrix/);
  const [points, samples] = problem.match(/--points (\d+) or --samples (\d+)$/)!.slice(1)
    .map(Number);
  // Each suggestion fits with the other size as given, and one more does not.
  assert.ok(points * 2000 * 4 <= 128 * MiB && (points + 1) * 2000 * 4 > 128 * MiB);
  assert.ok(100_000 * samples * 4 <= 128 * MiB && 100_000 * (samples + 1) * 4 > 128 * MiB);
  assert.equal(sizeProblem([{ ...sizes[0], value: points }, sizes[1]], needs), undefined);
});

Deno.test("sizes: host memory counts device buffers on a software adapter", () => {
  const params = 100_000;
  const footprint = together(
    directionsFootprint(params, size("--dim")),
    lossMatrixFootprint(size("--points"), size("--samples"), { differences: true }),
  );
  const sizes = [
    { name: "--dim", value: 64, min: 1 },
    { name: "--points", value: 64, min: 2 },
    { name: "--samples", value: 1001, min: 3 },
  ];
  // Host arrays alone: (2 * 64 + 1 + 64) directions' worth of parameters plus the differences.
  const host = (2 * 64 + 1 + 64) * params * 4 + 64 * 1001 * 4;
  const device = (64 + 64) * params * 4 + 3 * 64 * 1001 * 4;
  assert.equal(sizeProblem(sizes, footprintNeeds("Δk", footprint, budget(host))), undefined);
  const software = sizeProblem(sizes, footprintNeeds("Δk", footprint, budget(host, true)))!;
  assert.match(
    software,
    /^--dim 64 with --points 64 with --samples 1001 needs .* for Δk, above host memory/,
  );
  assert.match(software, /the largest that fits, the others as given, is --dim \d+/);
  assert.equal(
    sizeProblem(sizes, footprintNeeds("Δk", footprint, budget(host + device, true))),
    undefined,
  );
});

Deno.test("sizes: a list size shows as given and a need no option can shrink says so", () => {
  const needs = footprintNeeds("x", directionsFootprint(50_000_000, size("--dims")), budget());
  const problem = sizeProblem([{ name: "--dims", value: 8, min: 1, text: "1,8" }], needs)!;
  assert.match(problem, /^--dims 1,8 needs .*; no value of --dims fits$/);
});

gpuTest("sizes: a model's parameter length is known before it is built", (gpu) => {
  for (
    const config of [
      mlp({ inputShape: [1, 8, 8], hidden: 12, layers: 2, batchNorm: true, dropout: 0.1 }),
      cnn({ inputShape: [1, 8, 8], channels: 3, convLayers: 2, headChannels: 2, batchNorm: true }),
    ]
  ) {
    const model = new Sequential(gpu, config);
    assert.equal(flatParameterLength(config), model.params.values.size, config.name);
    model.dispose();
  }
});

Deno.test({
  name: "sizes: the library refuses a subspace, grid or width that cannot fit before drawing",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // A 16 MiB binding limit, whatever the adapter offers, so the sizes below fail everywhere.
    const gpu = await Gpu.create({ limits: { maxStorageBufferBindingSize: 16 * MiB } });
    const model = new Sequential(gpu, mlp({ inputShape: [1, 8, 8], hidden: 8, layers: 1 }));
    model.initialize(0);
    const data = synthetic({ samples: 64, seed: 1 });
    const evalData = { dataset: data, loss: "cross-entropy" as const };
    try {
      await assert.rejects(
        () =>
          estimateDelta(model, data, {
            sigma: 0.01,
            points: 4,
            samples: 10,
            seed: 0,
            mode: "subspace",
            dim: 10000,
          }),
        /^RangeError: dim 10000 needs .* for the directions .*maxStorageBufferBindingSize \(16 MiB\); the largest that fits is dim \d+$/,
      );
      await assert.rejects(
        () => gridMeans(model, evalData, { seed: 0, resolution: 2000 }),
        /^RangeError: grid 2000 needs .* for the loss matrix .*; the largest that fits is grid \d+$/,
      );
      await assert.rejects(
        () => widthCurve(model, evalData, { seed: 0, directions: 10000, steps: 2 }),
        /^RangeError: directions 10000 needs .* for the directions .*; the largest that fits is directions \d+$/,
      );
    } finally {
      model.dispose();
      gpu.destroy();
    }
  },
});

Deno.test("sizes: a suggestion keeps to the size's step (antithetic pairs of points)", () => {
  const needs = footprintNeeds(
    "Δk",
    lossMatrixFootprint(size("--points"), size("--samples")),
    budget(),
  );
  const at = (step: number) =>
    sizeProblem([
      { name: "--points", value: 100_000, min: 2, step },
      { name: "--samples", value: 2000, min: 3 },
    ], needs)!.match(/--points (\d+) or/)![1];
  assert.equal(at(1), "16777");
  assert.equal(at(2), "16776");
});
