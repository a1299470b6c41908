/**
 * The adapter's roofline, measured: (a) arithmetic throughput of a register-only kernel (3
 * independent vec4 FMA chains per invocation, 16 steps written out per loop trip, 2^20
 * invocations; `bench/kernels/fma.wgsl`, whose header says why that shape) in GFLOPS, and (b) memory bandwidth of a storage-buffer copy (`bench/kernels/copy.wgsl`, 64 MiB
 * each way, vec4 and scalar elements) in GB/s, counting read + write.
 *
 * Method: wall time around `gpu.sync()` of r and 2r dispatches recorded into one submission,
 * alternated, r calibrated so r dispatches take about `targetMs`. The rate is taken from the
 * median of the 2r submissions (their one submit-and-wait, about 11 ms on lavapipe, counted
 * in: a few per cent conservative); the slope (median(2r) - median(r)) / r, which removes that
 * fixed cost but amplifies noise on a shared machine, is reported beside it. On adapters with
 * timestamps it also reports GPU time between two timestamps (the engine's GpuTimer: separate
 * empty passes around the work), which agrees with wall time on lavapipe.
 *
 * Other suites call {@link roofline} and report kernels as a fraction of it.
 *
 * Usage: deno run -A bench/roofline.ts [--quick] [--json out.json]
 * @module
 */
import { parseArgs } from "node:util";
import { Gpu } from "../src/gpu/gpu.ts";
import { uniformStruct } from "../src/gpu/uniforms.ts";
import { wgsl } from "../src/gpu/shader.ts";
import { GpuTimer } from "../src/gpu/timer.ts";
import { ceilDiv } from "../src/gpu/workgroups.ts";
import { Tensor } from "../src/tensor.ts";
import { median, sig } from "./harness.ts";
import fmaSource from "./kernels/fma.wgsl" with { type: "text" };
import copySource from "./kernels/copy.wgsl" with { type: "text" };

/** The probe kernels and their uniform structs (shared with roofline_bench.ts). */
export const fmaShader = wgsl("bench/kernels/fma.wgsl", fmaSource);
/** See fmaShader. */
export const copyShader = wgsl("bench/kernels/copy.wgsl", copySource);
/** fma.wgsl's Params. */
export const FMA_UNIFORMS = uniformStruct("Params", {
  iterations: "u32",
  a: "f32",
  b: "f32",
  invocations: "u32",
});
/** copy.wgsl's Params. */
export const COPY_UNIFORMS = uniformStruct("Params", { n: "u32" });

/** Options of {@link measureRoofline}. */
export interface RooflineOptions {
  /** Fewer, shorter repetitions (about 2-4 s on lavapipe instead of about 10 s). */
  quick?: boolean;
  /** Bytes of each copy buffer (default 64 MiB, capped by the device's binding limit). */
  copyBytes?: number;
  /** Invocations of the FMA kernel (default 2^20, quick 2^18). */
  invocations?: number;
  /** Also time with GPU timestamps where the adapter has them (default: unless quick). */
  timestamps?: boolean;
  /** Loop trips of the FMA kernel, 16 steps each (default 64; lavapipe caps loops at 65,535). */
  iterations?: number;
}

/** One probe's result. */
export interface Probe {
  /** GFLOPS (fma) or GB/s (copy), from the median wall time of 2r dispatches. */
  value: number;
  /** The same rate from the slope between r and 2r dispatches (noisier). */
  slopeValue: number;
  /** "GFLOPS" or "GB/s". */
  unit: "GFLOPS" | "GB/s";
  /** FLOPs or bytes per dispatch. */
  workPerDispatch: number;
  /** Milliseconds per dispatch (median of 2r dispatches / 2r). */
  msPerDispatch: number;
  /** Dispatches per submission in the two alternated measurements. */
  dispatches: [number, number];
  /** Wall milliseconds of the r and 2r submissions, every repetition. */
  wallMs: [number[], number[]];
  /** The same rate from GPU timestamps around 2r dispatches (median), when available. */
  timestampValue?: number;
}

/** The adapter's measured peaks. */
export interface Roofline {
  /** Adapter description. */
  adapter: string;
  /** Arithmetic peak of the FMA probe, GFLOPS. */
  fmaGflops: number;
  /** Best copy bandwidth (vec4 or scalar elements), GB/s, read + write counted. */
  copyGBps: number;
  /**
   * The probes; `bufferCopy` is copyBufferToBuffer (no shader: on lavapipe a CPU memcpy), a
   * reference for what the memory does outside kernels, not part of the roofline.
   */
  probes: { fma: Probe; copy4: Probe; copy1: Probe; bufferCopy: Probe };
  /** Repetitions per probe. */
  reps: number;
}

/** Calibrates, alternates r and 2r dispatches, and returns the rates. */
async function probe(
  gpu: Gpu,
  record: () => void,
  workPerDispatch: number,
  unit: Probe["unit"],
  { targetMs, reps, timestamps }: { targetMs: number; reps: number; timestamps: boolean },
): Promise<Probe> {
  const run = async (count: number) => {
    await gpu.sync();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) record();
    await gpu.sync();
    return performance.now() - t0;
  };
  await run(1); // compiles the pipeline
  const once = await run(1);
  const r = Math.max(1, Math.min(1024, Math.ceil(targetMs / Math.max(once, 0.01))));
  const small: number[] = [], large: number[] = [];
  for (let i = 0; i < reps; i++) {
    small.push(await run(r));
    large.push(await run(2 * r));
  }
  const ms = median(large) / (2 * r);
  const slope = (median(large) - median(small)) / r;
  const rate = (t: number) => workPerDispatch / t / 1e6; // per ms -> G per s
  const result: Probe = {
    value: rate(ms),
    slopeValue: slope > 0 ? rate(slope) : NaN,
    unit,
    workPerDispatch,
    msPerDispatch: ms,
    dispatches: [r, 2 * r],
    wallMs: [small, large],
  };
  if (timestamps && gpu.hasTimestamps) {
    const spans: number[] = [];
    for (let i = 0; i < reps; i++) {
      const timer = new GpuTimer(gpu, 1);
      const span = timer.begin("probe");
      for (let j = 0; j < 2 * r; j++) record();
      timer.end(span);
      const [t] = await timer.results();
      timer.destroy();
      spans.push(t.ms / (2 * r));
    }
    result.timestampValue = rate(median(spans));
  }
  return result;
}

/** Measures the FMA and copy peaks of `gpu`'s adapter. */
export async function measureRoofline(gpu: Gpu, options: RooflineOptions = {}): Promise<Roofline> {
  const quick = options.quick ?? false;
  const settings = {
    ...(quick ? { targetMs: 150, reps: 3 } : { targetMs: 400, reps: 5 }),
    timestamps: options.timestamps ?? !quick,
  };

  const invocations = options.invocations ?? (quick ? 1 << 18 : 1 << 20);
  const iterations = options.iterations ?? 64;
  if (iterations > 60_000) throw new RangeError("iterations must stay below lavapipe's loop cap");
  const sink = Tensor.empty(gpu, [invocations]);
  const fmaParams = FMA_UNIFORMS.write({ iterations, a: 0.999, b: 0.001, invocations });
  const fma = await probe(
    gpu,
    () => {
      gpu.dispatch({
        kernel: { shader: fmaShader, entryPoint: "fmaPeak", constants: { WG: 64 } },
        bindings: [sink],
        params: fmaParams,
        workgroups: ceilDiv(invocations, 64),
      });
    },
    fmaFlops(invocations, iterations),
    "GFLOPS",
    settings,
  );
  sink.dispose();

  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  const bytes = Math.floor(Math.min(options.copyBytes ?? 64 * 2 ** 20, limit) / 16) * 16;
  const src = Tensor.zeros(gpu, [bytes / 4]);
  const dst = Tensor.empty(gpu, [bytes / 4]);
  const copyProbe = (entryPoint: string, elementBytes: number) => {
    const n = bytes / elementBytes;
    const p = COPY_UNIFORMS.write({ n });
    return probe(
      gpu,
      () => {
        gpu.dispatch({
          kernel: { shader: copyShader, entryPoint, constants: { WG: 256 } },
          bindings: [src, dst],
          params: p,
          workgroups: ceilDiv(n, 256),
        });
      },
      2 * bytes,
      "GB/s",
      settings,
    );
  };
  const copy4 = await copyProbe("copy4", 16);
  const copy1 = await copyProbe("copy1", 4);
  const bufferCopy = await probe(gpu, () => gpu.copy(src, dst), 2 * bytes, "GB/s", settings);
  src.dispose();
  dst.dispose();
  await gpu.sync();
  return {
    adapter: gpu.adapter,
    fmaGflops: fma.value,
    copyGBps: Math.max(copy4.value, copy1.value),
    probes: { fma, copy4, copy1, bufferCopy },
    reps: settings.reps,
  };
}

/** FLOPs of one dispatch of fma.wgsl's fmaPeak: 16 steps x 12 scalar chains x 2 per trip. */
export function fmaFlops(invocations: number, iterations: number): number {
  return invocations * iterations * 16 * 12 * 2;
}

const cached = new WeakMap<Gpu, Promise<Roofline>>();

/** The roofline of `gpu`, measured once per device (quick settings unless `quick: false`). */
export function roofline(gpu: Gpu, options: RooflineOptions = { quick: true }): Promise<Roofline> {
  let r = cached.get(gpu);
  if (!r) cached.set(gpu, r = measureRoofline(gpu, options));
  return r;
}

/** "12.3% of FMA peak"-style fraction, as a percentage string. */
export function percentOf(value: number, peak: number): string {
  return `${sig((100 * value) / peak, 3)}%`;
}

/** One line per probe, for logs. */
export function describeRoofline(r: Roofline): string[] {
  const line = (name: string, p: Probe) =>
    `  ${name.padEnd(22)} ${sig(p.value, 4).padStart(9)} ${p.unit}  (${
      sig(p.msPerDispatch, 3)
    } ms/dispatch over ${p.dispatches[1]} per submit, median of ${r.reps}; slope of ${
      p.dispatches[0]
    } vs ${p.dispatches[1]}: ${sig(p.slopeValue, 4)}` +
    (p.timestampValue !== undefined ? `; GPU timestamps: ${sig(p.timestampValue, 4)}` : "") +
    ")";
  return [
    `Roofline of ${r.adapter}:`,
    line("FMA (3 x vec4 chains)", r.probes.fma),
    line("copy vec4", r.probes.copy4),
    line("copy f32", r.probes.copy1),
    line("copyBufferToBuffer *", r.probes.bufferCopy),
    "  * not a kernel: a reference for the memory system, not part of the roofline",
  ];
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { quick: { type: "boolean", default: false }, json: { type: "string" } },
  });
  const gpu = await Gpu.create();
  const r = await measureRoofline(gpu, { quick: values.quick });
  for (const line of describeRoofline(r)) console.log(line);
  console.log(`fmaGflops ${sig(r.fmaGflops, 4)}, copyGBps ${sig(r.copyGBps, 4)}`);
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(r, null, 2) + "\n");
  gpu.destroy();
}
