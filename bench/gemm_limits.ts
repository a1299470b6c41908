/**
 * What a register-tiled GEMM can reach on this adapter, whatever the engine does around it:
 * C = A·Bᵀ (512 x 512 x 512, both operands row-major along K, read as vec4s along K, the
 * register core's "dot" form) by kernels that differ only in how their operands are read:
 * - storage: each invocation loads its tm rows of A and tn rows of B from storage buffers;
 * - texture: the same loads from rgba32float textures (textureLoad);
 * - registers: the operands are loaded once before the k loop, which then runs the same FMAs
 *   on registers: the arithmetic part alone, an upper bound for any way of loading.
 * Tiles of tm x tn outputs per invocation, fully unrolled (generated here for the same reason as
 * src/nn/gemm_register.ts: arrays indexed by an unrolled-away loop counter land in scratch
 * memory on lavapipe). Each kernel's result is checked against a float64 product first.
 *
 * On lavapipe this shows why the engine's products run near 20 GFLOPS where the roofline's FMA
 * probe reaches several times that: llvmpipe runs 8 invocations per 256-bit register and loads
 * each invocation's values one by one, and tiles large enough to amortise those loads keep more
 * accumulators than the 16 ymm registers hold.
 *
 * Usage: deno run -A bench/gemm_limits.ts [--reps 5] [--json out.json]
 * GPU time between timestamps where the adapter has them, else wall time around sync; the
 * machine may be shared, so compare rows of one run.
 * @module
 */
import { parseArgs } from "node:util";
import { Gpu } from "../src/gpu/gpu.ts";
import { GpuTimer } from "../src/gpu/timer.ts";
import { lcg } from "./engine_workloads.ts";
import { writeAtomic } from "../src/report/atomic.ts";

type Operands = "storage" | "texture" | "textureB" | "registers";

const SIZE = 512;
const K4 = SIZE / 4;
const TILES: [number, number][] = [[4, 4], [8, 8], [16, 16], [32, 16]];
const REGISTER_TILES: [number, number][] = [[2, 4], [4, 4], [16, 4]];

/** The product kernel for one tile and way of reading operands (one invocation per tile). */
function productShader(tm: number, tn: number, operands: Operands): string {
  const texture = operands === "texture";
  const textureB = texture || operands === "textureB";
  const lines = [
    texture
      ? "@group(0) @binding(0) var A: texture_2d<f32>;"
      : "@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;",
    textureB
      ? "@group(0) @binding(1) var B: texture_2d<f32>;"
      : "@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;",
    "@group(0) @binding(2) var<storage, read_write> C: array<f32>;",
    "@compute @workgroup_size(64)",
    "fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
    "  let t = wid.x * 64u + lid;",
    `  let m0 = (t % ${SIZE / tm}u) * ${tm}u;`,
    `  let n0 = (t / ${SIZE / tm}u) * ${tn}u;`,
  ];
  const read = (name: string, row: string, k: string) =>
    (name === "A" ? texture : textureB)
      ? `textureLoad(${name}, vec2<u32>(${k}, ${row}), 0)`
      : `${name}[(${row}) * ${K4}u + ${k}]`;
  const loads = (k: string, indent: string) => {
    for (let i = 0; i < tm; i++) lines.push(`${indent}let a${i} = ${read("A", `m0 + ${i}u`, k)};`);
    for (let j = 0; j < tn; j++) lines.push(`${indent}let b${j} = ${read("B", `n0 + ${j}u`, k)};`);
  };
  for (let i = 0; i < tm; i++) {
    for (let j = 0; j < tn; j++) lines.push(`  var c${i}_${j} = 0.0;`);
  }
  if (operands === "registers") loads("0u", "  ");
  lines.push(`  for (var k = 0u; k < ${K4}u; k++) {`);
  if (operands !== "registers") loads("k", "    ");
  for (let i = 0; i < tm; i++) {
    for (let j = 0; j < tn; j++) {
      let sum = `c${i}_${j}`;
      for (const e of "xyzw") sum = `fma(a${i}.${e}, b${j}.${e}, ${sum})`;
      lines.push(`    c${i}_${j} = ${sum};`);
    }
  }
  lines.push("  }");
  for (let i = 0; i < tm; i++) {
    for (let j = 0; j < tn; j++) {
      lines.push(`  C[(m0 + ${i}u) * ${SIZE}u + n0 + ${j}u] = c${i}_${j};`);
    }
  }
  lines.push("}");
  return lines.join("\n");
}

/** C = A·Bᵀ in float64, the check for the loading kernels. */
function reference(a: Float32Array, b: Float32Array): Float64Array {
  const c = new Float64Array(SIZE * SIZE);
  for (let i = 0; i < SIZE; i++) {
    for (let j = 0; j < SIZE; j++) {
      let s = 0;
      for (let k = 0; k < SIZE; k++) s += a[i * SIZE + k] * b[j * SIZE + k];
      c[i * SIZE + j] = s;
    }
  }
  return c;
}

/** One operand as a storage buffer and as a K/4 x SIZE rgba32float texture. */
function upload(
  device: GPUDevice,
  source: Float32Array,
): { buffer: GPUBuffer; view: GPUTextureView } {
  const values = new Float32Array(source);
  const buffer = device.createBuffer({
    size: values.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, values);
  const texture = device.createTexture({
    size: [K4, SIZE],
    format: "rgba32float",
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  device.queue.writeTexture({ texture }, values, { bytesPerRow: SIZE * 4 }, [K4, SIZE]);
  return { buffer, view: texture.createView() };
}

/** A row of the table: a kernel's median time and rate. */
export interface LimitRow {
  /** How the kernel reads its operands. */
  operands: Operands;
  /** Outputs per invocation, rows x columns. */
  tile: string;
  /** Median milliseconds per product. */
  ms: number;
  /** 2 x 512^3 / time. */
  gflops: number;
}

if (import.meta.main) {
  const { values: args } = parseArgs({
    args: Deno.args,
    options: { reps: { type: "string", default: "5" }, json: { type: "string" } },
  });
  const reps = Number(args.reps);
  if (!(Number.isInteger(reps) && reps >= 1)) {
    console.error(`--reps must be a whole number >= 1, got ${args.reps}`);
    Deno.exit(2);
  }
  const gpu = await Gpu.create();
  const device = gpu.device;
  const a = lcg(SIZE * SIZE, 1);
  const b = lcg(SIZE * SIZE, 2);
  const expected = reference(a, b);
  const [A, B] = [upload(device, a), upload(device, b)];
  const C = device.createBuffer({
    size: SIZE * SIZE * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const readback = device.createBuffer({
    size: SIZE * SIZE * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });

  const run = async (pipeline: GPUComputePipeline, group: GPUBindGroup, workgroups: number) => {
    const timer = gpu.hasTimestamps ? new GpuTimer(gpu, 1) : null;
    const span = timer?.begin("product");
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(workgroups);
    pass.end();
    const t0 = performance.now();
    await gpu.flush();
    device.queue.submit([encoder.finish()]);
    if (timer && span !== undefined) timer.end(span);
    await gpu.sync();
    const wall = performance.now() - t0;
    if (!timer) return wall;
    const [t] = await timer.results();
    timer.destroy();
    return t.ms;
  };

  const rows: LimitRow[] = [];
  const cases: [Operands, [number, number]][] = [
    ...TILES.flatMap(([tm, tn]) =>
      (["storage", "textureB", "texture"] as const).map((
        o,
      ): [Operands, [number, number]] => [o, [tm, tn]])
    ),
    ...REGISTER_TILES.map(([tm, tn]): [Operands, [number, number]] => ["registers", [tm, tn]]),
  ];
  for (const [operands, [tm, tn]] of cases) {
    const module = device.createShaderModule({ code: productShader(tm, tn, operands) });
    const pipeline = device.createComputePipeline({
      layout: "auto",
      compute: { module, entryPoint: "main" },
    });
    const texture = operands === "texture";
    const textureB = texture || operands === "textureB";
    const group = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: texture ? A.view : { buffer: A.buffer } },
        { binding: 1, resource: textureB ? B.view : { buffer: B.buffer } },
        { binding: 2, resource: { buffer: C } },
      ],
    });
    const workgroups = (SIZE / tm) * (SIZE / tn) / 64;
    await run(pipeline, group, workgroups); // compiles
    if (operands !== "registers") {
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(C, 0, readback, 0, SIZE * SIZE * 4);
      device.queue.submit([encoder.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      const got = new Float32Array(readback.getMappedRange().slice(0));
      readback.unmap();
      const worst = got.reduce((w, v, i) => Math.max(w, Math.abs(v - expected[i])), 0);
      if (!(worst < 1e-3)) throw new Error(`${operands} ${tm}x${tn}: max error ${worst}`);
    }
    const times: number[] = [];
    for (let r = 0; r < reps; r++) times.push(await run(pipeline, group, workgroups));
    times.sort((x, y) => x - y);
    const ms = times[Math.floor(times.length / 2)];
    const row = { operands, tile: `${tm}x${tn}`, ms, gflops: (2 * SIZE ** 3) / ms / 1e6 };
    rows.push(row);
    console.log(
      `${operands.padEnd(9)} ${row.tile.padStart(5)}: ${ms.toFixed(2).padStart(7)} ms, ` +
        `${row.gflops.toFixed(1).padStart(5)} GFLOPS`,
    );
  }
  console.log(`adapter: ${gpu.adapter}`);
  if (args.json) {
    await writeAtomic(args.json, JSON.stringify({ adapter: gpu.adapter, rows }, null, 2) + "\n");
  }
  gpu.destroy();
}
