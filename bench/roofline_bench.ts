/**
 * The roofline probes as Deno benchmarks: the register-only FMA kernel (2^20 invocations x 64
 * loop trips x 16 steps x 12 scalar chains) and the 64 MiB storage-buffer copies (vec4 and f32 elements), REPS
 * dispatches per iteration and one wait; then the roofline as bench/roofline.ts measures it
 * (slope of r vs 2r dispatches, which removes the submit-and-wait cost), which the other suites
 * report their kernels against.
 *
 * Run with `deno task bench` or `deno bench -A bench/roofline_bench.ts`.
 */
import { Gpu } from "../src/gpu/gpu.ts";
import { ceilDiv } from "../src/gpu/workgroups.ts";
import { Tensor } from "../src/tensor.ts";
import { median, sig, timeSync } from "./harness.ts";
import {
  COPY_UNIFORMS,
  copyShader,
  describeRoofline,
  FMA_UNIFORMS,
  fmaFlops,
  fmaShader,
  roofline,
} from "./roofline.ts";

const gpu = await Gpu.create();
const REPS = 4;
const INVOCATIONS = 1 << 20, ITERATIONS = 64;
const BYTES = Math.min(64 * 2 ** 20, gpu.limits.maxStorageBufferBindingSize);
const sink = Tensor.empty(gpu, [INVOCATIONS]);
const src = Tensor.zeros(gpu, [BYTES / 4]);
const dst = Tensor.empty(gpu, [BYTES / 4]);
const rows: { name: string; work: number; unit: string; ms: number[] }[] = [];

function bench(name: string, work: number, unit: string, record: () => void): void {
  const row = { name, work, unit, ms: [] as number[] };
  rows.push(row);
  Deno.bench({
    name: `${name} x${REPS}`,
    group: "roofline",
    n: 5,
    warmup: 1,
    async fn() {
      row.ms.push(
        await timeSync(gpu, () => {
          for (let i = 0; i < REPS; i++) record();
        }),
      );
    },
  });
}

const fmaParams = FMA_UNIFORMS.write({
  iterations: ITERATIONS,
  a: 0.999,
  b: 0.001,
  invocations: INVOCATIONS,
});
bench(
  "fmaPeak, 2^20 invocations x 1024 steps",
  fmaFlops(INVOCATIONS, ITERATIONS),
  "GFLOPS",
  () =>
    gpu.dispatch({
      kernel: { shader: fmaShader, entryPoint: "fmaPeak", constants: { WG: 64 } },
      bindings: [sink],
      params: fmaParams,
      workgroups: ceilDiv(INVOCATIONS, 64),
    }),
);
for (const [entryPoint, element] of [["copy4", 16], ["copy1", 4]] as const) {
  const n = BYTES / element;
  const p = COPY_UNIFORMS.write({ n });
  bench(`${entryPoint}, ${BYTES / 2 ** 20} MiB`, 2 * BYTES, "GB/s", () =>
    gpu.dispatch({
      kernel: { shader: copyShader, entryPoint, constants: { WG: 256 } },
      bindings: [src, dst],
      params: p,
      workgroups: ceilDiv(n, 256),
    }));
}

// Measured after the benches are registered, before they run: quick settings.
const peak = await roofline(gpu);

globalThis.addEventListener("unload", () => {
  console.log(`\nRoofline probes on ${gpu.adapter} (wall time around sync incl. one submit):`);
  for (const { name, work, unit, ms } of rows) {
    if (ms.length < 2) continue;
    const t = median(ms.slice(1)) / REPS;
    console.log(
      `  ${name.padEnd(36)} ${sig(t).padStart(7)} ms per dispatch, ${sig(work / t / 1e6)} ${unit}`,
    );
  }
  for (const line of describeRoofline(peak)) console.log(line);
});
