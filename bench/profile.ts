/**
 * Where one workload spends its GPU time: every dispatch and texture copy of a run timed by
 * timestamps (GpuTimer; adapters with `timestamp-query`, lavapipe among them), summed by shader
 * file and entry point, medians over --reps runs after two untimed ones (compilation), largest
 * first, with each kernel's share and launches per run. Timestamps between dispatches end their
 * compute passes, so the sum runs a little above the untimed GPU time; compare kernels within a
 * run, and trees with `bench/versus.ts`.
 *
 * Workloads (bench/engine_workloads.ts, the paper's models on 28 x 28 images): cnn_eval and
 * mlp_eval (one batch's evaluation forward and losses), cnn_step and mlp_step (one training
 * step), delta_mlp and delta_cnn (the fused Δk loss matrix of --points points, σ = 0.01).
 *
 * Usage: deno run -A bench/profile.ts WORKLOAD [--reps 3] [--batch 64] [--points 64]
 *        [--samples 256 (delta_mlp), 16 (delta_cnn)]
 * @module
 */
import { parseArgs } from "node:util";
import { Gpu } from "../src/gpu/gpu.ts";
import { GpuTimer, type Timing } from "../src/gpu/timer.ts";
import { DeltaMatrix, Evaluate, PAPER_CNN, PAPER_MLP, TrainStep } from "./engine_workloads.ts";
import { failWith, median, positiveOption, sig } from "./harness.ts";

const WORKLOADS = ["cnn_eval", "mlp_eval", "cnn_step", "mlp_step", "delta_mlp", "delta_cnn"];

/** One-line error and exit 1 (failWith). */
function fail(message: string): never {
  return failWith("profile", message);
}

const { values: args, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    reps: { type: "string", default: "3" },
    batch: { type: "string", default: "64" },
    points: { type: "string", default: "64" },
    samples: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(`Usage: deno run -A bench/profile.ts WORKLOAD (${WORKLOADS.join(", ")}) [options]`);
  Deno.exit(0);
}
const workload = positionals[0];
if (positionals.length !== 1 || !WORKLOADS.includes(workload)) {
  fail(`give one workload, got "${positionals.join(" ")}"; choose from ${WORKLOADS.join(", ")}`);
}

const count = (name: string, text: string) => positiveOption("profile", name, text);
const reps = count("reps", args.reps);
const batch = count("batch", args.batch);
const points = count("points", args.points);
const samples = count("samples", args.samples ?? (workload === "delta_cnn" ? "16" : "256"));

const gpu = await Gpu.create();
if (!gpu.hasTimestamps) {
  fail(`adapter "${gpu.adapter}" has no timestamp-query feature; time whole runs instead`);
}
const model = workload.includes("cnn") ? PAPER_CNN : PAPER_MLP;

/** One unit of the workload, recorded and waited for. */
function unit(): () => Promise<void> {
  if (workload.endsWith("_step")) {
    const step = new TrainStep(gpu, model, batch);
    return async () => {
      step.record();
      await gpu.sync();
    };
  }
  if (workload.endsWith("_eval")) {
    const evaluate = new Evaluate(gpu, model, batch);
    return async () => {
      evaluate.record();
      await gpu.sync();
    };
  }
  const delta = new DeltaMatrix(gpu, model, points, samples);
  return () => delta.fused();
}
const run = unit();

// Every dispatch and texture copy gets a span while `timer` is set.
let timer: GpuTimer | null = null;
let launches = 0;
const dispatch = gpu.dispatch.bind(gpu);
gpu.dispatch = (d) => {
  launches++;
  const id = timer?.begin(`${d.kernel.shader.file}:${d.kernel.entryPoint}`);
  dispatch(d);
  if (id !== undefined) timer!.end(id);
};
const textureCopy = gpu.textureCopy.bind(gpu);
gpu.textureCopy = (src, width) => {
  launches++;
  const id = timer?.begin("texture copy");
  const out = textureCopy(src, width);
  if (id !== undefined) timer!.end(id);
  return out;
};

await run();
launches = 0;
await run();
const capacity = launches + 16;
const runs: Map<string, { ms: number; n: number }>[] = [];
const totals: number[] = [];
const walls: number[] = [];
for (let r = 0; r < reps; r++) {
  timer = new GpuTimer(gpu, capacity);
  const t0 = performance.now();
  await run();
  walls.push(performance.now() - t0);
  const spans: Timing[] = await timer.results();
  timer = null;
  const byKernel = new Map<string, { ms: number; n: number }>();
  for (const { label, ms } of spans) {
    const k = byKernel.get(label) ?? { ms: 0, n: 0 };
    byKernel.set(label, { ms: k.ms + ms, n: k.n + 1 });
  }
  runs.push(byKernel);
  totals.push(spans.reduce((sum, s) => sum + s.ms, 0));
}

const labels = new Set(runs.flatMap((m) => [...m.keys()]));
const rows = [...labels].map((label) => ({
  label,
  ms: median(runs.map((m) => m.get(label)?.ms ?? 0)),
  n: median(runs.map((m) => m.get(label)?.n ?? 0)),
})).sort((a, b) => b.ms - a.ms);
const total = median(totals);
console.log(
  `${workload} on ${gpu.adapter}: GPU ${sig(total)} ms a run (median of ${reps}), wall ` +
    `${sig(median(walls))} ms`,
);
console.log("      ms  share  per run  kernel");
for (const { label, ms, n } of rows) {
  const share = `${(100 * ms / total).toFixed(1)}%`;
  console.log(
    `${sig(ms).padStart(8)}  ${share.padStart(5)}  ${String(n).padStart(7)}  ${label}`,
  );
}
