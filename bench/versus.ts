/**
 * This tree's speed against another git revision of it, measured in one run: the revision is
 * exported to a temporary folder (`git archive`), both trees' workloads
 * (bench/engine_workloads.ts) are built in one process, each on its own device, and timed
 * alternately (A B A B ...), so a machine whose speed drifts slows both alike. Prints medians,
 * the ratio of medians and the median of per-round ratios (base / this tree: above 1 means
 * this tree is faster); `--json FILE` writes them.
 *
 * Workloads: cnn_eval and mlp_eval (the paper's models, eval forward and per-sample losses of
 * one batch), delta_mlp and delta_cnn (the fused Δk loss matrix per point, σ = 0.01, plain
 * points, on --samples and --cnn-samples images).
 *
 * Each timing waits for the device once, after --per-wait units (default 1). Deno's WebGPU
 * sleeps 10 ms after every wait (mapAsync, onSubmittedWorkDone) before resolving it, so with one
 * unit per wait a fixed 10 ms or so is part of every evaluation's time; work that records many
 * batches before reading (the loss-matrix path) pays it once per read, or per chunk where it
 * reports progress.
 *
 * Usage: deno run -A bench/versus.ts [--base REV] [--only cnn_eval,...] [--reps 7]
 *        [--batch 64] [--points 64] [--samples 256] [--cnn-samples 16] [--per-wait 1]
 *        [--json out.json]
 * --base: any revision git knows (default HEAD~1). The revision needs bench/engine_workloads.ts
 * with Evaluate and DeltaMatrix.
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { failWith, median, positiveOption, sig } from "./harness.ts";
import { writeAtomic } from "../src/report/atomic.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    base: { type: "string", default: "HEAD~1" },
    only: { type: "string", default: "cnn_eval,mlp_eval,delta_mlp,delta_cnn" },
    reps: { type: "string", default: "7" },
    batch: { type: "string", default: "64" },
    points: { type: "string", default: "64" },
    samples: { type: "string", default: "256" },
    "cnn-samples": { type: "string", default: "16" },
    "per-wait": { type: "string", default: "1" },
    json: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log("Usage: deno run -A bench/versus.ts [--base REV] [--only ...] (see the header)");
  Deno.exit(0);
}

/** One-line error and exit 1 (failWith). */
function fail(message: string): never {
  return failWith("versus", message);
}

const WORKLOADS = ["cnn_eval", "mlp_eval", "delta_mlp", "delta_cnn"] as const;
type Workload = typeof WORKLOADS[number];
const only = args.only.split(",").map((s) => s.trim());
for (const w of only) {
  if (!(WORKLOADS as readonly string[]).includes(w)) {
    fail(`--only: unknown workload "${w}"; choose from ${WORKLOADS.join(", ")}`);
  }
}
const count = (name: string, v: string) => positiveOption("versus", name, v);
const reps = count("reps", args.reps), batch = count("batch", args.batch);
const points = count("points", args.points), samples = count("samples", args.samples);
const cnnSamples = count("cnn-samples", args["cnn-samples"]);
const perWait = count("per-wait", args["per-wait"]);

const here = fileURLToPath(new URL("..", import.meta.url));

async function git(...cmd: string[]): Promise<Uint8Array> {
  const out = await new Deno.Command("git", { args: ["-C", here, ...cmd], stderr: "piped" })
    .output().catch(() => fail("git is not installed; it is needed to export --base"));
  if (!out.success) {
    fail(`git ${cmd[0]} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return out.stdout;
}

const commit = new TextDecoder().decode(await git("rev-parse", "--verify", `${args.base}^{commit}`))
  .trim();
const baseDir = await Deno.makeTempDir({ prefix: "landscape-versus-" });
try {
  const tar = await git("archive", "--format=tar", commit);
  const untar = new Deno.Command("tar", { args: ["-x", "-C", baseDir], stdin: "piped" }).spawn();
  const writer = untar.stdin.getWriter();
  await writer.write(tar);
  await writer.close();
  if (!(await untar.status).success) fail(`could not unpack revision ${commit} into ${baseDir}`);
  await run(baseDir);
} finally {
  await Deno.remove(baseDir, { recursive: true });
}

/** A tree's device and workloads, built from its own modules. */
interface Side {
  label: string;
  sync(): Promise<void>;
  /** Records (or runs) one unit of `w`. */
  unit(w: Workload): Promise<void>;
  /** Items per unit (images or points), for the per-item time. */
  items(w: Workload): number;
}

// deno-lint-ignore no-explicit-any
type Module = any;

async function side(dir: string, label: string): Promise<Side> {
  const url = (path: string) => new URL(path, `file://${dir.replace(/\/?$/, "/")}`).href;
  let gpuModule: Module, w: Module;
  try {
    gpuModule = await import(url("src/gpu/gpu.ts"));
    w = await import(url("bench/engine_workloads.ts"));
  } catch (e) {
    fail(`${label}: cannot load its workloads (${(e as Error).message.split("\n")[0]})`);
  }
  if (!w.Evaluate || !w.DeltaMatrix) {
    fail(`${label}: bench/engine_workloads.ts has no Evaluate or DeltaMatrix; pick a newer --base`);
  }
  const gpu = await gpuModule.Gpu.create();
  const evals = new Map<Workload, Module>(), deltas = new Map<Workload, Module>();
  return {
    label,
    sync: () => gpu.sync(),
    async unit(name) {
      if (name.endsWith("_eval")) {
        const config = name === "cnn_eval" ? w.PAPER_CNN : w.PAPER_MLP;
        if (!evals.has(name)) evals.set(name, new w.Evaluate(gpu, config, batch));
        evals.get(name).record();
      } else {
        const [config, n] = name === "delta_cnn"
          ? [w.PAPER_CNN, cnnSamples]
          : [w.PAPER_MLP, samples];
        if (!deltas.has(name)) deltas.set(name, new w.DeltaMatrix(gpu, config, points, n));
        await deltas.get(name).fused();
      }
    },
    items: (name) => name.endsWith("_eval") ? batch : points,
  };
}

/** Milliseconds per unit of `w`, over --per-wait units and one wait for the device. */
async function timeUnit(s: Side, w: Workload): Promise<number> {
  await s.sync();
  const t0 = performance.now();
  for (let i = 0; i < perWait; i++) await s.unit(w);
  await s.sync();
  return (performance.now() - t0) / perWait;
}

async function run(baseDir: string): Promise<void> {
  const base = await side(baseDir, `base ${commit.slice(0, 10)}`);
  const current = await side(here, "this tree");
  console.error(
    `versus: ${base.label} against ${current.label}, ${reps} rounds each, ${perWait} unit(s) ` +
      `per wait`,
  );
  const rows = [];
  for (const w of only as Workload[]) {
    // One untimed round compiles both sides' pipelines.
    await timeUnit(base, w);
    await timeUnit(current, w);
    const a: number[] = [], b: number[] = [], ratios: number[] = [];
    for (let r = 0; r < reps; r++) {
      // Which side goes first alternates too, so neither always follows the other.
      let ta: number, tb: number;
      if (r % 2 === 0) {
        ta = await timeUnit(base, w);
        tb = await timeUnit(current, w);
      } else {
        tb = await timeUnit(current, w);
        ta = await timeUnit(base, w);
      }
      a.push(ta);
      b.push(tb);
      ratios.push(ta / tb);
    }
    const unitName = w.endsWith("_eval") ? "image" : "point";
    const row = {
      workload: w,
      baseMs: median(a) / base.items(w),
      currentMs: median(b) / current.items(w),
      ratio: median(a) / median(b),
      pairedRatio: median(ratios),
      unit: unitName,
    };
    rows.push(row);
    console.log(
      `${w.padEnd(10)} base ${sig(row.baseMs)} ms/${unitName}, this tree ${
        sig(row.currentMs)
      } ms/${unitName}: ${sig(row.ratio)}x (median of per-round ratios ${sig(row.pairedRatio)}x)`,
    );
  }
  if (args.json) {
    const cpu = /model name\s*:\s*(.+)/.exec(
      await Deno.readTextFile("/proc/cpuinfo").catch(() => ""),
    )?.[1];
    await writeAtomic(
      args.json,
      JSON.stringify(
        { base: commit, reps, batch, points, samples, cnnSamples, perWait, cpu, rows },
        null,
        2,
      ) +
        "\n",
    );
  }
}
