/**
 * Adam: one fused update over the paper MLP's flat parameter vector (4 x 128 with batch norm,
 * ~152k values, each tensor padded to 64 elements as the engine stores it) and over 2^20. Each iteration records REPS updates and waits once. The
 * summary counts 28 bytes per parameter and step (weights, gradients, m and v read; weights,
 * m and v written), the resulting GB/s and its fraction of the adapter's copy bandwidth.
 *
 * Run with `deno task bench` or `deno bench -A bench/adam_bench.ts`.
 */
import { Gpu } from "../src/gpu/gpu.ts";
import { Adam } from "../src/optim/adam.ts";
import { Tensor } from "../src/tensor.ts";
import { buildModel, lcg, PAPER_MLP } from "./engine_workloads.ts";
import { median, sig, timeSync } from "./harness.ts";
import { percentOf, roofline } from "./roofline.ts";

const gpu = await Gpu.create();
const peak = await roofline(gpu);
const REPS = 16;
const times = new Map<string, { n: number; ms: number[] }>();

const mlp = buildModel(gpu, PAPER_MLP);
const mlpSize = mlp.params.values.size;
mlp.dispose();

for (const n of [mlpSize, 1 << 20]) {
  const weights = Tensor.from(gpu, lcg(n, 1));
  const grads = Tensor.from(gpu, lcg(n, 2));
  const adam = new Adam(weights, grads, { lr: 3e-4 });
  const name = `adam step, ${n.toLocaleString("en")} parameters x${REPS}`;
  times.set(name, { n, ms: [] });
  Deno.bench({
    name,
    group: "adam",
    n: 10,
    warmup: 2,
    async fn() {
      times.get(name)!.ms.push(
        await timeSync(gpu, () => {
          for (let i = 0; i < REPS; i++) adam.update();
        }),
      );
    },
  });
}

globalThis.addEventListener("unload", () => {
  console.log(
    `\nAdam on ${gpu.adapter} (wall time around sync, median of timed iterations; ` +
      `copy roofline ${sig(peak.copyGBps)} GB/s):`,
  );
  for (const [name, { n, ms }] of times) {
    const t = median(ms.slice(-10)) / REPS;
    const gbps = (28 * n) / t / 1e6;
    console.log(
      `  ${name.padEnd(40)} ${sig(t).padStart(7)} ms per step, ${sig(gbps)} GB/s ` +
        `(${percentOf(gbps, peak.copyGBps)} of copy bandwidth)`,
    );
  }
});
