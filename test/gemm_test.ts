import assert from "node:assert/strict";
import { Gpu } from "../src/gpu/gpu.ts";
import { wgsl } from "../src/gpu/shader.ts";
import { Conv2d } from "../src/nn/conv2d.ts";
import { Dense } from "../src/nn/dense.ts";
import {
  defaultGemmVariant,
  gemmShader,
  gemmVariant,
  K_CHUNK,
  planRegister,
  REGISTER_MAX_DIM,
  registerTile,
  setGemmVariant,
} from "../src/nn/gemm.ts";
import type { ForwardContext, Layer } from "../src/nn/layer.ts";
import { epilogueShader } from "../src/nn/epilogue.ts";
import { perturbationShader } from "../src/nn/perturbation.ts";
import { readTensors, Tensor } from "../src/tensor.ts";
import { assertBitwiseEqual, assertClose, gpuTest, randomArray, sumBound } from "./helpers.ts";
import { activation, gradOf, setupLayer } from "./layers.ts";
import {
  convBackward,
  convDepths,
  convForward,
  type ConvGeometry,
  dxAsConv,
  winogradScale,
} from "./reference/conv2d.ts";
import { denseBackward, denseForward } from "./reference/dense.ts";
import convSource from "../shaders/conv2d.wgsl" with { type: "text" };

Deno.test("the GEMM core is picked by adapter: register on software adapters, tiled on GPUs", () => {
  assert.equal(defaultGemmVariant("llvmpipe (LLVM 15.0.6, 256 bits) [software]"), "register");
  assert.equal(defaultGemmVariant("llvmpipe (LLVM 15.0.6, 256 bits)"), "register");
  assert.equal(defaultGemmVariant("SwiftShader Device (Subzero)"), "register");
  assert.equal(defaultGemmVariant("Some GPU [software]"), "register");
  assert.equal(defaultGemmVariant("NVIDIA GeForce RTX 4090"), "tiled");
  assert.equal(defaultGemmVariant("AMD Radeon RX 7900 XTX (RADV NAVI31)"), "tiled");
  assert.equal(defaultGemmVariant("unknown adapter"), "tiled");
});

gpuTest("setGemmVariant overrides the adapter's core and undefined restores it", (gpu) => {
  const own = defaultGemmVariant(gpu.adapter);
  assert.equal(gemmVariant(gpu), own);
  const other = own === "tiled" ? "register" : "tiled";
  setGemmVariant(gpu, other);
  assert.equal(gemmVariant(gpu), other);
  setGemmVariant(gpu, undefined);
  assert.equal(gemmVariant(gpu), own);
});

Deno.test("register tiles are multiples of 4 and large for large products", () => {
  for (
    const [m, n, k, lanes] of [
      [1, 1, 1, 1],
      [64, 128, 785, 1],
      [64, 50176, 577, 1],
      [64, 577, 8192, 7],
      [1024, 1024, 1024, 1],
      [3, 10000, 5, 4],
    ]
  ) {
    const t = registerTile(m, n, k, lanes);
    for (const v of [t.tm, t.tn]) assert.ok(v % 4 === 0 && v >= 4 && v <= 32, `${v}`);
    assert.ok(t.wg === 16 || t.wg === 64);
  }
  // (The exact choice depends on the number of CPU threads.)
  for (const [m, n, k] of [[1024, 1024, 1024], [64, 50176, 577]]) {
    const t = registerTile(m, n, k, 1);
    assert.ok(t.tm * t.tn >= 256, `${m}x${n}x${k}: ${JSON.stringify(t)}`);
  }
  const small = registerTile(3, 5, 8, 1);
  assert.ok(small.tm * small.tn <= 64, JSON.stringify(small));
});

Deno.test("register plans: pieces fit the binding limit, whole splits, or fall back to tiled", () => {
  const big = 128 * 2 ** 20;
  const one = planRegister(64, 50176, 577, 1, 1, 1, big)!;
  assert.equal(one.cols, 50176);
  assert.equal(one.rows, 64);
  // Packed A (577 x 64) and B (577 x 50176 floats) in 80 KB bindings: rows and columns split.
  const cut = planRegister(64, 50176, 577, 1, 1, 1, 80_000)!;
  assert.ok(cut.cols % cut.tile.tn === 0 && 577 * cut.cols * 4 <= 80_000, `${cut.cols}`);
  assert.ok(cut.rows % cut.tile.tm === 0 && 577 * cut.rows * 4 <= 80_000, `${cut.rows}`);
  // Three splits of K (of 5472), each packed operand 4 x 5472 floats: one split per piece.
  const k = 2 * K_CHUNK + 5;
  assert.equal(planRegister(4, 4, k, 1, 1, 1, 16 * 6000)!.splitsPer, 1);
  assert.equal(planRegister(4, 4, k, 1, 1, 1, 16 * 11000)!.splitsPer, 2);
  // A single tile over one split of K does not fit: the tiled core takes it.
  assert.equal(planRegister(64, 64, K_CHUNK, 1, 1, 1, 1000), null);
  // Dimensions past the float index arithmetic of the vector accessors.
  assert.equal(planRegister(REGISTER_MAX_DIM, 4, 4, 1, 1, 1, big), null);
  assert.equal(planRegister(4, 4, REGISTER_MAX_DIM, 1, 1, 1, big), null);
});

interface Run {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  db: Float32Array;
}

/** One training forward and backward of `layer` on `gpu` with the register core. */
async function runLayer(
  gpu: Gpu,
  layer: Layer,
  sample: number[],
  out: number[],
  batch: number,
  seed: number,
): Promise<Run & { xs: Float32Array; dys: Float32Array; values: Record<string, Float32Array> }> {
  setGemmVariant(gpu, "register");
  try {
    const { store, values } = setupLayer(gpu, layer, sample, { seed, lead: 9 });
    const size = (s: number[]) => s.reduce((a, b) => a * b, batch);
    const xs = randomArray(size(sample), seed + 1);
    const dys = randomArray(size(out), seed + 2);
    const ctx: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
    const x = activation(gpu, xs, batch, sample);
    const y = layer.forward(ctx, x);
    const dy = activation(gpu, dys, batch, out);
    const dx = layer.backward(ctx, dy);
    const [yv, dxv] = await readTensors([y, dx]);
    const dw = await gradOf(store, 1, "weight"), db = await gradOf(store, 1, "bias");
    for (const t of [x, y, dy, dx]) t.dispose();
    store.dispose();
    return { y: yv, dx: dxv, dw, db, xs, dys, values };
  } finally {
    setGemmVariant(gpu, undefined);
  }
}

function sameBits(a: Run, b: Run): void {
  assertBitwiseEqual(a.y, b.y, "y");
  assertBitwiseEqual(a.dx, b.dx, "dx");
  assertBitwiseEqual(a.dw, b.dw, "dW");
  assertBitwiseEqual(a.db, b.db, "db");
}

const bound = sumBound;

// 2 x 3 x 16 x 16 images, 8 channels: packed im2col operands of 57 KB (forward), 147 KB (dx)
// and 64 KB (dW) against 40 KB bindings, so every product runs in column pieces.
const CONV: ConvGeometry = { batch: 2, inC: 3, inH: 16, inW: 16, outC: 8, k: 3, stride: 1, pad: 1 };

gpuTest(
  "register core: products cut into pieces to fit small bindings give the same bits",
  async (gpu) => {
    // The plans for these products (m, n, k) really are cut (and not handed to the tiled core).
    const cutPlans = (limit: number, shapes: number[][]) => {
      for (const [m, n, k] of shapes) {
        const plan = planRegister(m, n, k, 1, 1, 1, limit);
        assert.ok(plan, `${m}x${n}x${k} has a register plan`);
        const splits = Math.ceil(k / K_CHUNK);
        const pieces = Math.ceil(m / plan.rows) * Math.ceil(n / plan.cols) *
          Math.ceil(splits / plan.splitsPer);
        assert.ok(pieces > 1, `${m}x${n}x${k} runs in pieces`);
      }
    };
    cutPlans(40_000, [[8, 512, 28], [3, 512, 72], [8, 28, 512]]);
    cutPlans(120_000, [[9000, 2, 4], [2, 4, 9000]]);
    const small = await Gpu.create({ limits: { maxStorageBufferBindingSize: 40_000 } });
    const conv = () => new Conv2d(CONV.inC, CONV.outC, CONV.k, { padding: CONV.pad });
    const sample = [CONV.inC, CONV.inH, CONV.inW], out = [CONV.outC, CONV.inH, CONV.inW];
    const whole = await runLayer(gpu, conv(), sample, out, CONV.batch, 3);
    const cut = await runLayer(small, conv(), sample, out, CONV.batch, 3);
    sameBits(cut, whole);
    const ref = convForward(CONV, whole.xs, whole.values.weight, whole.values.bias);
    assertClose(whole.y, ref.y, { bound: bound(convDepths(CONV).forward, ref.scale) }, "y");
    const g = convBackward(CONV, whole.xs, whole.values.weight, whole.dys);
    const abs = (a: ArrayLike<number>) => Float64Array.from(a, Math.abs);
    const s = convBackward(CONV, abs(whole.xs), abs(whole.values.weight), abs(whole.dys));
    // dx contracts over 8 channels: a Winograd product (in passes of one image on `small`).
    const { geometry, weights } = dxAsConv(CONV, whole.values.weight);
    const w = winogradScale(geometry, whole.dys, weights, undefined, 4);
    assertClose(whole.dx, g.dx, { bound: bound(w.depth, w.scale) }, "dx");
    assertClose(whole.dw, g.dw, { bound: bound(convDepths(CONV).dw, s.dw) }, "dW");
    small.destroy();

    // Dense 3 -> 2 on 9000 samples in 120 KB bindings: the forward's packed x (144 KB) runs
    // in row pieces, the weight gradient's two splits of K in one piece each.
    const denseSmall = await Gpu.create({ limits: { maxStorageBufferBindingSize: 120_000 } });
    const batch = 9000;
    const a = await runLayer(gpu, new Dense(3, 2), [3], [2], batch, 5);
    const b = await runLayer(denseSmall, new Dense(3, 2), [3], [2], batch, 5);
    sameBits(b, a);
    const refD = denseForward(a.xs, a.values.weight, a.values.bias, batch, 3, 2);
    assertClose(a.y, refD.y, { bound: bound(4, refD.scale) }, "dense y");
    const gd = denseBackward(a.xs, a.values.weight, a.dys, batch, 3, 2);
    const sd = denseBackward(
      Float64Array.from(a.xs, Math.abs),
      Float64Array.from(a.values.weight, Math.abs),
      Float64Array.from(a.dys, Math.abs),
      batch,
      3,
      2,
    );
    assertClose(a.dw, gd.dw, { bound: bound(batch, sd.dw) }, "dense dW");
    assertClose(a.db, gd.db, { bound: bound(batch, sd.db) }, "dense db");
    denseSmall.destroy();
  },
);

gpuTest(
  "register core: dispatches cut at 2 workgroups per dimension give the same bits",
  async (gpu) => {
    const tiny = await Gpu.create({ limits: { maxComputeWorkgroupsPerDimension: 2 } });
    // 6 output channels: dx contracts over 6, so neither pass is a Winograd product (whose 16
    // slices a device of 2 workgroups per dimension cannot dispatch: it convolves directly).
    const conv = () => new Conv2d(CONV.inC, 6, CONV.k, { padding: CONV.pad });
    const sample = [CONV.inC, CONV.inH, CONV.inW];
    sameBits(
      await runLayer(tiny, conv(), sample, [6, CONV.inH, CONV.inW], CONV.batch, 4),
      await runLayer(gpu, conv(), sample, [6, CONV.inH, CONV.inW], CONV.batch, 4),
    );
    sameBits(
      await runLayer(tiny, new Dense(70, 130), [70], [130], 600, 6),
      await runLayer(gpu, new Dense(70, 130), [70], [130], 600, 6),
    );
    tiny.destroy();
  },
);

gpuTest("register core: the same inputs give the same bits twice", async (gpu) => {
  const conv = () => new Conv2d(CONV.inC, CONV.outC, CONV.k, { padding: CONV.pad });
  const sample = [CONV.inC, CONV.inH, CONV.inW], out = [CONV.outC, CONV.inH, CONV.inW];
  sameBits(
    await runLayer(gpu, conv(), sample, out, CONV.batch, 8),
    await runLayer(gpu, conv(), sample, out, CONV.batch, 8),
  );
});

gpuTest("conv_divmod (float quotient, corrected) is exact below 2^22", async (gpu) => {
  const conv = wgsl(
    "shaders/conv2d.wgsl",
    convSource,
    gemmShader,
    perturbationShader(undefined),
    epilogueShader(undefined),
  );
  const kernel = wgsl(
    "test/gemm_test.ts (divmod kernel)",
    `@group(0) @binding(20) var<storage, read> divIn: array<vec2<u32>>;
@group(0) @binding(21) var<storage, read_write> divOut: array<vec2<u32>>;
@compute @workgroup_size(64)
fn divmodTest(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * 64u + li;
  if (i < arrayLength(&divIn)) {
    divOut[i] = conv_divmod(divIn[i].x, divIn[i].y);
  }
}
`,
    conv,
  );
  const max = REGISTER_MAX_DIM - 1;
  const pairs: [number, number][] = [];
  const divisors = [1, 2, 3, 4, 7, 9, 26, 28, 676, 784, 12544, 50176, 65535, 1 << 20, max];
  let state = 12345;
  const rand = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
  for (const d of divisors) {
    for (let q = 0; q * d <= max && q < 5000; q += 1 + rand(50)) {
      for (const a of [q * d - 1, q * d, q * d + 1, q * d + d - 1]) {
        if (a >= 0 && a <= max) pairs.push([a, d]);
      }
    }
    for (let i = 0; i < 2000; i++) pairs.push([rand(max + 1), d]);
    pairs.push([max, d], [max - 1, d], [0, d]);
  }
  for (let i = 0; i < 20000; i++) pairs.push([rand(max + 1), 1 + rand(max)]);
  const input = Tensor.from(gpu, Uint32Array.from(pairs.flat()), [pairs.length, 2]);
  const output = Tensor.empty(gpu, [pairs.length, 2], "u32");
  const bindings = Array(21).fill(null);
  bindings[19] = input;
  bindings[20] = output;
  gpu.dispatch({
    kernel: { shader: kernel, entryPoint: "divmodTest" },
    bindings,
    workgroups: Math.ceil(pairs.length / 64),
  });
  const got = await output.read();
  pairs.forEach(([a, d], i) => {
    const q = Math.floor(a / d);
    if (got[2 * i] !== q || got[2 * i + 1] !== a - q * d) {
      assert.fail(`${a} divmod ${d}: got ${got[2 * i]}, ${got[2 * i + 1]}; want ${q}, ${a % d}`);
    }
  });
  input.dispose();
  output.dispose();
});

gpuTest(
  "register core: a convolution over per-point inputs packs each point's shifted rows",
  async (gpu) => {
    // G = 3 points, each with its own images ([G, B, C, H, W]); sigma 0 keeps the weights.
    const g: ConvGeometry = { batch: 2, inC: 3, inH: 8, inW: 12, outC: 5, k: 3, stride: 1, pad: 1 };
    const points = 3;
    setGemmVariant(gpu, "register");
    try {
      const layer = new Conv2d(g.inC, g.outC, g.k, { padding: g.pad });
      const { store, values } = setupLayer(gpu, layer, [g.inC, g.inH, g.inW], { seed: 11 });
      const per = g.batch * g.inC * g.inH * g.inW;
      const xs = randomArray(points * per, 12);
      const x = Tensor.from(gpu, xs, [points, g.batch, g.inC, g.inH, g.inW]);
      const dispatch = gpu.dispatch;
      const seen: string[] = [];
      gpu.dispatch = (d) => {
        seen.push(`${d.kernel.entryPoint} ${d.kernel.constants?.GEMM_B_CUSTOM}`);
        dispatch.call(gpu, d);
      };
      let y: Tensor;
      try {
        y = layer.forward({
          gpu,
          training: false,
          seed: 0,
          step: 0,
          perturbation: { mode: "full", points, seed: 1, sigma: 0 },
        }, x);
      } finally {
        gpu.dispatch = dispatch;
      }
      assert.ok(seen.includes("gemmPack 1") && seen.includes("gemm 1"), seen.join(", "));
      const got = await y.read();
      const outPer = got.length / points;
      for (let t = 0; t < points; t++) {
        const ref = convForward(g, xs.subarray(t * per, (t + 1) * per), values.weight, values.bias);
        assertClose(
          got.subarray(t * outPer, (t + 1) * outPer),
          ref.y,
          { bound: bound(convDepths(g).forward, ref.scale) },
          `point ${t}`,
        );
      }
      for (const v of [x, y]) v.dispose();
      store.dispose();
    } finally {
      setGemmVariant(gpu, undefined);
    }
  },
);
