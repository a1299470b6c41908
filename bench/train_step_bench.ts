/**
 * Whole training steps of the paper's models at batch 64 on 28x28x1 images, recorded as
 * `train()` records them: batch upload, forward (train mode), softmax cross-entropy, backward,
 * Adam. The MLP (4 x 128, batch norm, dropout 0.05) runs STEPS steps per iteration and waits
 * once (as training reads losses back only every 50 steps); the CNN (4 conv blocks of 64
 * channels with batch norm, then the 16-channel head) one step per iteration, few iterations:
 * it takes seconds per step on lavapipe.
 *
 * The summary gives the median time per step, GFLOPS of the step's products (3 x forward
 * multiply-adds x 2) and their fraction of the adapter's FMA peak (bench/roofline.ts).
 *
 * Run with `deno task bench` or `deno bench -A bench/train_step_bench.ts`;
 * TRAIN_BENCH_CNN_ITERATIONS sets the CNN's timed iterations (default 2).
 */
import { Gpu } from "../src/gpu/gpu.ts";
import type { ModelConfig } from "../src/nn/model_config.ts";
import { PAPER_CNN, PAPER_MLP, TrainStep } from "./engine_workloads.ts";
import { median, sig, timeSync, trainingFlops } from "./harness.ts";
import { percentOf, roofline } from "./roofline.ts";

const gpu = await Gpu.create();
const peak = await roofline(gpu);
const BATCH = 64;
const rows: { name: string; steps: number; config: ModelConfig; n: number; ms: number[] }[] = [];

function bench(name: string, config: ModelConfig, steps: number, n: number): void {
  const work = new TrainStep(gpu, config, BATCH);
  const row = { name, steps, config, n, ms: [] as number[] };
  rows.push(row);
  Deno.bench({
    name: `${name} x${steps}`,
    group: "training step",
    n,
    warmup: 1,
    async fn() {
      row.ms.push(
        await timeSync(gpu, () => {
          for (let i = 0; i < steps; i++) work.record();
        }),
      );
    },
  });
}

bench("paper MLP 4x128 bn+dropout, b64", PAPER_MLP, 10, 5);
bench(
  "paper CNN 4x64 bn, b64",
  PAPER_CNN,
  1,
  Number(Deno.env.get("TRAIN_BENCH_CNN_ITERATIONS") ?? 2),
);

globalThis.addEventListener("unload", () => {
  console.log(
    `\nTraining steps on ${gpu.adapter} (wall time around sync, median of timed iterations; ` +
      `FMA roofline ${sig(peak.fmaGflops)} GFLOPS):`,
  );
  for (const { name, steps, config, n, ms } of rows) {
    if (ms.length === 0) continue;
    const t = median(ms.slice(-n)) / steps;
    const gflops = (trainingFlops(config) * BATCH) / t / 1e6;
    console.log(
      `  ${name.padEnd(34)} ${sig(t).padStart(7)} ms per step, ${sig(gflops)} GFLOPS in ` +
        `products (${percentOf(gflops, peak.fmaGflops)} of FMA peak)`,
    );
  }
});
