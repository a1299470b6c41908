/**
 * Core kernel throughput: element-wise, reduction, scan and Philox fills on 2^22 floats.
 * Each iteration records 16 launches and waits once, so per-submit latency (about 11 ms on
 * lavapipe) is spread over the batch. Run with `deno task bench`.
 */
import { Gpu, type Tensor } from "../mod.ts";
import { add, cumsum, normal, sum } from "../kernels.ts";

const gpu = await Gpu.create();
const N = 1 << 22;
const REPS = 16;
const x = normal(gpu, [N], { seed: 1 });
const y = normal(gpu, [N], { seed: 2 });
await gpu.sync();

function batch(name: string, launch: () => Tensor | void): void {
  Deno.bench({
    name: `${name} x${REPS} (2^22 floats)`,
    group: "core",
    async fn() {
      for (let i = 0; i < REPS; i++) launch()?.dispose();
      await gpu.sync();
    },
  });
}

batch("add", () => add(x, y));
batch("sum", () => sum(x));
batch("cumsum", () => cumsum(x));
batch("normal fill", () => normal(gpu, [N], { seed: 3 }));
