/**
 * Small helpers shared by the benchmark suites and the comparison harness: medians, wall-clock
 * timing around `gpu.sync()`, alternating measurements, FLOP counts of the paper's models, and
 * the command-line tools' one-line errors.
 * Not a suite itself (the file name does not end in `_bench.ts`).
 * @module
 */
import type { Gpu } from "../src/gpu/gpu.ts";
import type { ModelConfig } from "../src/nn/model_config.ts";

/** Median (the mean of the two middle values for even lengths; NaN when empty). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Milliseconds of wall time for what `work` records (or runs), from a drained queue to done. */
export async function timeSync(gpu: Gpu, work: () => unknown): Promise<number> {
  await gpu.sync();
  const t0 = performance.now();
  await work();
  await gpu.sync();
  return performance.now() - t0;
}

/**
 * Runs every case `reps` times, alternating (A B C A B C ...), after `warmup` untimed rounds;
 * returns each case's timings in milliseconds.
 */
export async function alternate(
  cases: readonly (() => Promise<number>)[],
  reps: number,
  warmup = 1,
): Promise<number[][]> {
  const out = cases.map(() => [] as number[]);
  for (let r = 0; r < warmup; r++) for (const c of cases) await c();
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < cases.length; i++) out[i].push(await cases[i]());
  }
  return out;
}

/** Formats a number with `digits` significant digits (no exponent for ordinary ranges). */
export function sig(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const magnitude = Math.floor(Math.log10(Math.abs(x)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return x.toFixed(Math.min(decimals, 6));
}

/** Per-sample shapes through a model config (input first, then after every layer). */
function walk(
  config: ModelConfig,
  visit: (spec: ModelConfig["layers"][number], shape: number[]) => void,
): void {
  let shape = [...config.inputShape];
  for (const spec of config.layers) {
    visit(spec, shape);
    if (spec.type === "dense") shape = [spec.out];
    else if (spec.type === "conv2d") {
      const pad = spec.padding ?? 0, stride = spec.stride ?? 1;
      const size = (n: number) => Math.floor((n + 2 * pad - spec.kernel) / stride) + 1;
      shape = [spec.out, size(shape[1]), size(shape[2])];
    } else if (spec.type === "flatten") shape = [shape.reduce((a, b) => a * b, 1)];
  }
}

/** FLOPs (2 x multiply-adds) of the dense and conv products of one forward pass per sample. */
export function forwardFlops(config: ModelConfig): number {
  let total = 0;
  walk(config, (spec, shape) => {
    if (spec.type === "dense") total += 2 * spec.out * spec.in;
    else if (spec.type === "conv2d") {
      const pad = spec.padding ?? 0, stride = spec.stride ?? 1;
      const size = (n: number) => Math.floor((n + 2 * pad - spec.kernel) / stride) + 1;
      total += 2 * spec.out * size(shape[1]) * size(shape[2]) * spec.in * spec.kernel ** 2;
    }
  });
  return total;
}

/**
 * FLOPs of the products of one training step per sample, the usual estimate: 3 x forward
 * (forward, input gradient, weight gradient).
 */
export function trainingFlops(config: ModelConfig): number {
  return 3 * forwardFlops(config);
}

/** Bytes of a float32 tensor with these extents. */
export function f32Bytes(...dims: number[]): number {
  return 4 * dims.reduce((a, b) => a * b, 1);
}

/** A command-line tool's one-line error ("tool: message", what is wrong and what to do), exit 1. */
export function failWith(tool: string, message: string): never {
  console.error(`${tool}: ${message}`);
  Deno.exit(1);
}

/** Option --`name` of `tool` as a positive integer, or its one-line error. */
export function positiveOption(tool: string, name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    failWith(tool, `--${name} must be a positive integer, got "${text}"`);
  }
  return n;
}
