/**
 * One chunk of a 2D loss landscape: the per-sample losses at a block of grid points
 * w* + a u + b v (subspace mode, two filter-normalised directions), as lossSurface evaluates
 * them. Paper MLP: a 16 x 16 block (256 points, one chunk) over 128 samples (the default
 * preset's landscape subset); paper CNN: a 4 x 4 block over 8 samples (seconds on lavapipe).
 *
 * The summary prints time per grid point, point-samples per second, GFLOPS of the forward
 * products and their fraction of the adapter's FMA peak (bench/roofline.ts).
 *
 * Run with `deno task bench` or `deno bench -A bench/landscape_bench.ts`.
 */
import { Gpu } from "../src/gpu/gpu.ts";
import { interleave, randomDirections } from "../src/landscape/directions.ts";
import { gridAxis } from "../src/landscape/grid.ts";
import { lossMatrix, type Points } from "../src/landscape/loss_matrix.ts";
import type { ModelConfig } from "../src/nn/model_config.ts";
import { buildModel, images28, PAPER_CNN, PAPER_MLP } from "./engine_workloads.ts";
import { forwardFlops, median, sig, timeSync } from "./harness.ts";
import { percentOf, roofline } from "./roofline.ts";

const gpu = await Gpu.create();
const peak = await roofline(gpu);
const rows: { name: string; config: ModelConfig; points: number; samples: number; ms: number[] }[] =
  [];

async function bench(name: string, config: ModelConfig, side: number, samples: number, n: number) {
  const model = buildModel(gpu, config, 13);
  const directions = interleave(model, await randomDirections(model, 2, { seed: 5 }));
  const axis = gridAxis(side, [-1, 1]);
  const coefficients = new Float32Array(side * side * 4);
  for (let i = 0; i < side; i++) {
    for (let j = 0; j < side; j++) {
      coefficients[(i * side + j) * 4] = axis[i];
      coefficients[(i * side + j) * 4 + 1] = axis[j];
    }
  }
  const points: Points = { mode: "subspace", directions, coefficients, count: side * side, dim: 2 };
  const data = { dataset: images28(samples, 8), loss: "cross-entropy" as const };
  const row = { name, config, points: side * side, samples, ms: [] as number[] };
  rows.push(row);
  Deno.bench({
    name: `${name}: ${side}x${side} grid points x ${samples} samples`,
    group: "landscape grid chunk",
    n,
    warmup: 1,
    async fn() {
      row.ms.push(
        await timeSync(gpu, async () => (await lossMatrix(model, data, points)).dispose()),
      );
    },
  });
}

await bench("paper MLP", PAPER_MLP, 16, 128, 5);
await bench("paper CNN", PAPER_CNN, 4, 8, 2);

globalThis.addEventListener("unload", () => {
  console.log(
    `\nLandscape grid chunks on ${gpu.adapter} (wall time around sync, medians; ` +
      `FMA roofline ${sig(peak.fmaGflops)} GFLOPS):`,
  );
  for (const { name, config, points, samples, ms } of rows) {
    if (ms.length < 2) continue;
    const t = median(ms.slice(1));
    const gflops = (forwardFlops(config) * points * samples) / t / 1e6;
    console.log(
      `  ${name.padEnd(10)} ${points} points x ${samples} samples: ${sig(t)} ms, ` +
        `${sig(t / points)} ms/point, ${sig((points * samples) / t * 1000)} point-samples/s, ` +
        `${sig(gflops)} GFLOPS (${percentOf(gflops, peak.fmaGflops)} of FMA peak)`,
    );
  }
});
