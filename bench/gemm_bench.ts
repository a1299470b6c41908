/**
 * GEMM benchmarks: the tiled (workgroup-memory) core against the register core, measured in
 * the same run on this adapter, on a 1024^3 matrix product, the paper's convolution (batch 64,
 * 64 -> 64 channels, 28x28, 3x3, padding 1: forward, dx, dW) and one training step of the
 * paper's CNN and 4x128 MLP (batch 64, Fashion-MNIST shapes).
 *
 * Times are GPU time between two timestamps around the recorded work (GpuTimer), or wall time
 * around `gpu.sync()` when the adapter has no timestamps; the register core's times include
 * packing its operands. The first iterations (warmup) compile the pipelines. After the table,
 * a summary prints the median time per iteration, GFLOPS (2 x multiply-adds of the products;
 * for training steps, of their GEMMs; for 3x3 convolutions, which the register core computes
 * by Winograd with 2.25x fewer multiplications, those of the direct convolution) and the
 * register core's speedup over the tiled one.
 * The machine may be shared: compare ratios from one run, not absolute times across runs.
 *
 * Run with `deno task bench` (all suites) or `deno bench -A bench/gemm_bench.ts`; set
 * GEMM_BENCH_ITERATIONS to change the number of timed iterations (default 3).
 */
import { cnn, Gpu, mlp, type ModelConfig, Sequential, Tensor } from "../mod.ts";
import {
  Conv2d,
  Dense,
  GpuTimer,
  ParamStore,
  softmaxCrossEntropy,
  softmaxCrossEntropyBackward,
} from "../kernels.ts";
import { type GemmVariant, registerTile, setGemmVariant } from "../src/nn/gemm.ts";
import type { ForwardContext } from "../src/nn/layer.ts";
import { lcg } from "./engine_workloads.ts";

const gpu = await Gpu.create();
const ITERATIONS = Number(Deno.env.get("GEMM_BENCH_ITERATIONS") ?? 3);
const VARIANTS: GemmVariant[] = ["tiled", "register"];
const times = new Map<string, number[]>();
const flopsOf = new Map<string, number>();

const fill = lcg;

/** GPU milliseconds of what `record` records (wall time around sync without timestamps). */
async function measure(record: () => void): Promise<number> {
  if (!gpu.hasTimestamps) {
    await gpu.sync();
    const t0 = performance.now();
    record();
    await gpu.sync();
    return performance.now() - t0;
  }
  const timer = new GpuTimer(gpu, 1);
  const span = timer.begin("work");
  record();
  timer.end(span);
  const [t] = await timer.results();
  timer.destroy();
  return t.ms;
}

/** Benches `record` on both cores; `prepare` runs first on the same core, untimed. */
function bench(
  group: string,
  flops: number,
  n: number,
  record: () => void,
  prepare?: () => void,
): void {
  flopsOf.set(group, flops);
  for (const variant of VARIANTS) {
    const name = `${group} [${variant}]`;
    Deno.bench({
      name,
      group,
      baseline: variant === "tiled",
      n,
      warmup: 1,
      async fn() {
        setGemmVariant(gpu, variant);
        try {
          prepare?.();
          const ms = await measure(record);
          if (!times.has(name)) times.set(name, []);
          times.get(name)!.push(ms);
        } finally {
          setGemmVariant(gpu, undefined);
        }
      },
    });
  }
}

// 1024^3: a dense layer's forward with 1023 inputs plus the bias column, batch 1024.
{
  const layer = new Dense(1023, 1024);
  const store = ParamStore.create(gpu, [layer.paramSpecs()]);
  layer.bind(store.bindingsOf(0));
  store.initialize(1);
  const x = Tensor.from(gpu, fill(1024 * 1023, 2), [1, 1024, 1023]);
  const ctx: ForwardContext = { gpu, training: false, seed: 0, step: 0 };
  bench("matmul 1024x1024x1024", 2 * 1024 ** 3, ITERATIONS, () => layer.forward(ctx, x).dispose());
}

// The paper's convolution: 64 images, 64 -> 64 channels, 28x28, 3x3, padding 1.
{
  const layer = new Conv2d(64, 64, 3, { padding: 1 });
  const store = ParamStore.create(gpu, [layer.paramSpecs()]);
  layer.bind(store.bindingsOf(0));
  store.initialize(3);
  const x = Tensor.from(gpu, fill(64 * 64 * 28 * 28, 4), [1, 64, 64, 28, 28]);
  const dy = Tensor.from(gpu, fill(64 * 64 * 28 * 28, 5), [1, 64, 64, 28, 28]);
  const ctx: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
  const pixels = 64 * 28 * 28, taps = 64 * 9;
  // The backward passes time what follows a training forward on the same core (the register
  // core's Winograd forward keeps its transformed input for dW).
  const forward = () => layer.forward(ctx, x).dispose();
  const dx = () => {
    const params = layer.backwardParams;
    layer.backwardParams = () => {};
    try {
      layer.backward(ctx, dy).dispose();
    } finally {
      layer.backwardParams = params;
    }
  };
  bench("conv 64x28x28 b64 forward", 2 * 64 * pixels * (taps + 1), ITERATIONS, forward);
  bench("conv 64x28x28 b64 dx", 2 * 64 * pixels * taps, ITERATIONS, dx, forward);
  bench("conv 64x28x28 b64 dW", 2 * 64 * pixels * (taps + 1), ITERATIONS, () => {
    layer.backwardParams(ctx, dy);
  }, forward);
}

/** Multiply-adds of the GEMMs of a training step (forward, dx, dW per dense/conv layer) x 2. */
function stepFlops(config: ModelConfig, batch: number): number {
  let shape = [...config.inputShape];
  let total = 0;
  for (const spec of config.layers) {
    if (spec.type === "dense") {
      total += 2 * batch * spec.out * (spec.in + 1) * 2 + 2 * batch * spec.out * spec.in;
      shape = [spec.out];
    } else if (spec.type === "conv2d") {
      const pad = spec.padding ?? 0, stride = spec.stride ?? 1;
      const size = (n: number) => Math.floor((n + 2 * pad - spec.kernel) / stride) + 1;
      const [oh, ow] = [size(shape[1]), size(shape[2])];
      const taps = spec.in * spec.kernel ** 2;
      total += 2 * spec.out * batch * oh * ow * ((taps + 1) * 2 + taps);
      shape = [spec.out, oh, ow];
    } else if (spec.type === "flatten") {
      shape = [shape.reduce((a, b) => a * b, 1)];
    }
  }
  return total;
}

function trainingStep(name: string, config: ModelConfig, n: number): void {
  const model = new Sequential(gpu, config);
  model.initialize(7);
  const batch = 64;
  const x = Tensor.from(gpu, fill(batch * 784, 8), [1, batch, 1, 28, 28]);
  const labels = Tensor.from(gpu, Uint32Array.from({ length: batch }, (_, i) => i % 10));
  let step = 0;
  bench(name, stepFlops(config, batch), n, () => {
    const ctx: ForwardContext = { gpu, training: true, seed: 1, step: step++ };
    const logits = model.forward(ctx, x);
    const { losses, mean } = softmaxCrossEntropy(logits, labels);
    const dlogits = softmaxCrossEntropyBackward(logits, labels);
    model.backward(ctx, dlogits);
    for (const t of [logits, losses, mean, dlogits]) t.dispose();
    model.release();
  });
}

trainingStep(
  "CNN training step b64",
  cnn({ inputShape: [1, 28, 28], batchNorm: true }),
  Math.min(ITERATIONS, 2),
);
trainingStep(
  "MLP 4x128 training step b64",
  mlp({ inputShape: [1, 28, 28], batchNorm: true, dropout: 0.05 }),
  ITERATIONS,
);

globalThis.addEventListener("unload", () => {
  const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const clock = gpu.hasTimestamps ? "GPU timestamps" : "wall time around sync";
  console.log(`\nGEMM summary on ${gpu.adapter} (${clock}, median of timed iterations):`);
  for (const [group, flops] of flopsOf) {
    const row = VARIANTS.map((v) => {
      const t = times.get(`${group} [${v}]`);
      return t ? median(t.slice(-ITERATIONS)) : NaN;
    });
    const cells = VARIANTS.map((v, i) =>
      `${v} ${row[i].toFixed(1)} ms (${(flops / row[i] / 1e6).toFixed(2)} GFLOPS)`
    );
    console.log(
      `  ${group.padEnd(30)} ${cells.join("  ")}  register speedup ${
        (row[0] / row[1]).toFixed(2)
      }x`,
    );
  }
  const t = (m: number, n: number, k: number) => JSON.stringify(registerTile(m, n, k, 1));
  console.log(`  register tiles: 1024^3 ${t(1024, 1024, 1024)}, conv ${t(64, 50176, 577)}`);
});
