/**
 * Fused Δk evaluation against the slow path, for the paper's MLP and CNN at T = 64 points:
 * the same loss matrix computed (a) by the fused perturbed forward (noise regenerated inside
 * the layer kernels, all points batched) and (b) by writing w_t = w* + sigma * eps_t into the
 * parameters and running the ordinary forward once per point. The two alternate (A B A B ...)
 * and the ratio of medians is printed; `--json FILE` also writes the numbers.
 *
 * Usage: deno run -A bench/delta_compare.ts [--points 64] [--mlp-samples 256]
 *        [--cnn-samples 16] [--repeats 3] [--json out.json]
 */
import { parseArgs } from "node:util";
import { synthetic } from "../src/data/synthetic.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { type EvalData, lossMatrix, type Points } from "../src/landscape/loss_matrix.ts";
import { lossMatrixMaterialized } from "../src/landscape/materialize.ts";
import { cnn, mlp, type ModelConfig } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    points: { type: "string", default: "64" },
    "mlp-samples": { type: "string", default: "256" },
    "cnn-samples": { type: "string", default: "16" },
    repeats: { type: "string", default: "3" },
    json: { type: "string" },
  },
});

const gpu = await Gpu.create();
const points = Number(values.points), repeats = Number(values.repeats);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(f: () => Promise<{ dispose(): void }>): Promise<number> {
  await gpu.sync();
  const t0 = performance.now();
  const out = await f();
  await gpu.sync();
  const ms = performance.now() - t0;
  out.dispose();
  return ms;
}

const cases: [string, ModelConfig, number][] = [
  [
    "paper MLP 4x128, batch norm + dropout",
    mlp({ inputShape: [1, 28, 28], batchNorm: true, dropout: 0.05 }),
    Number(values["mlp-samples"]),
  ],
  [
    "paper CNN 4x64, batch norm",
    cnn({ inputShape: [1, 28, 28], batchNorm: true }),
    Number(values["cnn-samples"]),
  ],
];

const rows = [];
for (const [name, config, samples] of cases) {
  const model = new Sequential(gpu, config);
  model.initialize(1);
  const data: EvalData = {
    dataset: synthetic({ samples: samples, shape: [1, 28, 28], seed: 2 }),
    loss: "cross-entropy",
  };
  const p: Points = { mode: "full", count: points, seed: 3, sigma: 0.01 };
  // Warm up both paths (pipeline compilation is not what is measured).
  (await lossMatrix(model, data, { ...p, count: 2 })).dispose();
  (await lossMatrixMaterialized(model, data, { ...p, count: 2 })).dispose();
  const fused: number[] = [], slow: number[] = [];
  for (let r = 0; r < repeats; r++) {
    fused.push(await time(() => lossMatrix(model, data, p)));
    slow.push(await time(() => lossMatrixMaterialized(model, data, p)));
  }
  const row = {
    model: name,
    points,
    samples,
    fusedMs: median(fused),
    slowMs: median(slow),
    speedup: median(slow) / median(fused),
    parameters: model.params.count,
  };
  rows.push(row);
  console.log(
    `${name}: T = ${points}, n = ${samples}: fused ${row.fusedMs.toFixed(0)} ms, materialised ${
      row.slowMs.toFixed(0)
    } ms, ` +
      `speedup ${row.speedup.toFixed(2)}x (medians of ${repeats}, ${gpu.adapter})`,
  );
  model.dispose();
}
if (values.json) {
  await Deno.writeTextFile(
    values.json,
    JSON.stringify({ adapter: gpu.adapter, rows }, null, 2) + "\n",
  );
}
gpu.destroy();
