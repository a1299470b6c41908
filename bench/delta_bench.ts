/**
 * The fused Δk evaluation against its slow path, at small sizes: the loss matrix l[t, i] at T
 * Gaussian perturbations w* + sigma * eps_t computed (a) by the fused perturbed forward (noise
 * regenerated inside the layer kernels from Philox, all T points batched) and (b) by writing
 * each w_t into the parameters and running the ordinary forward (lossMatrixMaterialized).
 * Paper MLP: T = 32 points, 256 samples; paper CNN: T = 4 points, 8 samples.
 *
 * The summary prints time per point, GFLOPS of the forward products and their fraction of the
 * adapter's FMA peak, and the speedup of the fused path (ratio of medians). For larger sizes
 * and a JSON record use bench/delta_compare.ts or bench/compare.ts.
 *
 * Run with `deno task bench` or `deno bench -A bench/delta_bench.ts`.
 */
import { Gpu } from "../src/gpu/gpu.ts";
import type { ModelConfig } from "../src/nn/model_config.ts";
import { DeltaMatrix, PAPER_CNN, PAPER_MLP } from "./engine_workloads.ts";
import { forwardFlops, median, sig, timeSync } from "./harness.ts";
import { percentOf, roofline } from "./roofline.ts";

const gpu = await Gpu.create();
const peak = await roofline(gpu);
const rows: {
  name: string;
  config: ModelConfig;
  points: number;
  samples: number;
  fused: number[];
  slow: number[];
}[] = [];

function bench(name: string, config: ModelConfig, points: number, samples: number, n: number) {
  const work = new DeltaMatrix(gpu, config, points, samples);
  const row = { name, config, points, samples, fused: [] as number[], slow: [] as number[] };
  rows.push(row);
  const group = `${name}, T=${points}, n=${samples}`;
  Deno.bench({
    name: `${group}: fused`,
    group,
    baseline: true,
    n,
    warmup: 1,
    async fn() {
      row.fused.push(await timeSync(gpu, () => work.fused()));
    },
  });
  Deno.bench({
    name: `${group}: materialised`,
    group,
    n,
    warmup: 1,
    async fn() {
      row.slow.push(await timeSync(gpu, () => work.materialized()));
    },
  });
}

bench("paper MLP", PAPER_MLP, 32, 256, 5);
bench("paper CNN", PAPER_CNN, 4, 8, 2);

globalThis.addEventListener("unload", () => {
  console.log(
    `\nFused Δk evaluation vs materialised weights on ${gpu.adapter} (wall time around sync, ` +
      `medians; FMA roofline ${sig(peak.fmaGflops)} GFLOPS):`,
  );
  for (const { name, config, points, samples, fused, slow } of rows) {
    if (fused.length === 0 || slow.length === 0) continue;
    const f = median(fused.slice(1)), s = median(slow.slice(1));
    const gflops = (forwardFlops(config) * points * samples) / f / 1e6;
    console.log(
      `  ${name.padEnd(10)} T=${points}, n=${samples}: fused ${sig(f / points)} ms/point ` +
        `(${sig(gflops)} GFLOPS, ${percentOf(gflops, peak.fmaGflops)} of FMA peak), ` +
        `materialised ${sig(s / points)} ms/point; ` +
        (s >= f ? `fused is ${sig(s / f)}x faster` : `fused is ${sig(f / s)}x SLOWER`),
    );
  }
});
