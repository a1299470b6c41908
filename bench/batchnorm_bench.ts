/**
 * Batch norm on the paper CNN's layer shape: 64 images x 64 channels x 28x28 (3.2M values, a
 * 12.8 MB tensor), train-mode forward alone, forward + backward, and eval-mode forward. Each
 * iteration records REPS launches of the pass and waits once.
 *
 * The summary counts the bytes the kernels touch (train forward: x read by the sum, the
 * squares and the normalisation, y written = 4 tensors; backward: x and dy read by the
 * partial sums, x and dy read and dx written by the input gradient = 5 tensors; eval: 2), the
 * resulting GB/s and its fraction of the adapter's copy bandwidth (bench/roofline.ts).
 * Times are wall clock around `gpu.sync()`, medians of the timed iterations.
 *
 * Run with `deno task bench` or `deno bench -A bench/batchnorm_bench.ts`.
 */
import { Gpu } from "../src/gpu/gpu.ts";
import { BatchNorm } from "../src/nn/batchnorm.ts";
import type { ForwardContext } from "../src/nn/layer.ts";
import { ParamStore } from "../src/nn/param_store.ts";
import { Tensor } from "../src/tensor.ts";
import { lcg } from "./engine_workloads.ts";
import { median, sig, timeSync } from "./harness.ts";
import { percentOf, roofline } from "./roofline.ts";

const gpu = await Gpu.create();
const peak = await roofline(gpu);
const REPS = 8;
const shape = [1, 64, 64, 28, 28];
const size = 64 * 64 * 28 * 28;

const layer = new BatchNorm();
const store = ParamStore.create(gpu, [layer.paramSpecs([64, 28, 28])]);
layer.bind(store.bindingsOf(0));
store.initialize(1);
const x = Tensor.from(gpu, lcg(size, 1), shape);
const dy = Tensor.from(gpu, lcg(size, 2), shape);
const train: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
const evaluation: ForwardContext = { gpu, training: false, seed: 0, step: 0 };

const times = new Map<string, number[]>();
const tensorsTouched = new Map<string, number>();

function bench(name: string, tensors: number, record: () => void): void {
  const full = `${name} [64,64,28,28] x${REPS}`;
  tensorsTouched.set(full, tensors);
  Deno.bench({
    name: full,
    group: "batchnorm",
    n: 5,
    warmup: 1,
    async fn() {
      const ms = await timeSync(gpu, () => {
        for (let i = 0; i < REPS; i++) record();
      });
      if (!times.has(full)) times.set(full, []);
      times.get(full)!.push(ms);
    },
  });
}

bench("train forward", 4, () => {
  layer.forward(train, x).dispose();
  layer.release();
});
bench("train forward + backward", 9, () => {
  layer.forward(train, x).dispose();
  layer.backward(train, dy).dispose();
  layer.release();
});
bench("eval forward", 2, () => layer.forward(evaluation, x).dispose());

globalThis.addEventListener("unload", () => {
  console.log(
    `\nBatch norm on ${gpu.adapter} (wall time around sync, median of timed iterations; ` +
      `copy roofline ${sig(peak.copyGBps)} GB/s):`,
  );
  for (const [name, t] of times) {
    const ms = median(t.slice(-5)) / REPS;
    const gbps = (tensorsTouched.get(name)! * size * 4) / ms / 1e6;
    console.log(
      `  ${name.padEnd(42)} ${sig(ms).padStart(7)} ms per pass, ${sig(gbps)} GB/s touched ` +
        `(${percentOf(gbps, peak.copyGBps)} of copy bandwidth)`,
    );
  }
});
