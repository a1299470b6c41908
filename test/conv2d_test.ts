import { ok as assert } from "node:assert/strict";
import type { Gpu } from "../src/gpu/gpu.ts";
import { Conv2d } from "../src/nn/conv2d.ts";
import { type GemmVariant, REGISTER_MAX_DIM, setGemmVariant } from "../src/nn/gemm.ts";
import {
  imagesPerPass,
  recordWinograd,
  recordWinogradGradient,
  winogradApplies,
  winogradGradientApplies,
} from "../src/nn/winograd.ts";
import type { ForwardContext } from "../src/nn/layer.ts";
import { RNG_DOMAIN } from "../src/rng/philox.ts";
import { readTensors, Tensor } from "../src/tensor.ts";
import { checkGradient64, checkGradientGpu, projection } from "./gradcheck.ts";
import { assertClose, EPS32, gpuTest, randomArray, sumBound } from "./helpers.ts";
import { activation, gradOf, setupLayer } from "./layers.ts";
import {
  convBackward,
  convDepths,
  convForward,
  type ConvGeometry,
  dxAsConv,
  outSize,
  winogradGradScale,
  winogradScale,
} from "./reference/conv2d.ts";
import { normalRef } from "./reference/random.ts";
import fixtures from "./fixtures/conv2d.json" with { type: "json" };

const bound = sumBound;

// Every GEMM test runs on both cores, whichever the adapter would pick.
const VARIANTS: GemmVariant[] = ["tiled", "register"];

async function withVariant(gpu: Gpu, variant: GemmVariant, fn: () => Promise<void>) {
  setGemmVariant(gpu, variant);
  try {
    await fn();
  } finally {
    setGemmVariant(gpu, undefined);
  }
}

function absBackward(
  g: ConvGeometry,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
) {
  const abs = (a: ArrayLike<number>) => Float64Array.from(a, Math.abs);
  return convBackward(g, abs(x), abs(w), abs(dy));
}

async function runConv(
  gpu: Gpu,
  g: ConvGeometry,
  seed: number,
  values?: Record<string, Float32Array>,
  xs?: Float32Array,
  dys?: Float32Array,
) {
  const layer = new Conv2d(g.inC, g.outC, g.k, { stride: g.stride, padding: g.pad });
  const { store, values: v } = setupLayer(gpu, layer, [g.inC, g.inH, g.inW], {
    seed,
    lead: 37,
    values,
  });
  const [oh, ow] = outSize(g);
  const xIn = xs ?? randomArray(g.batch * g.inC * g.inH * g.inW, seed + 1);
  const dyIn = dys ?? randomArray(g.batch * g.outC * oh * ow, seed + 2);
  const ctx: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
  const x = activation(gpu, xIn, g.batch, [g.inC, g.inH, g.inW]);
  const y = layer.forward(ctx, x);
  const dy = activation(gpu, dyIn, g.batch, [g.outC, oh, ow]);
  const dx = layer.backward(ctx, dy);
  const [yv, dxv] = await readTensors([y, dx]);
  const dw = await gradOf(store, 1, "weight"), db = await gradOf(store, 1, "bias");
  for (const t of [x, y, dy, dx]) t.dispose();
  store.dispose();
  return { values: v, xs: xIn, dys: dyIn, y: yv, dx: dxv, dw, db };
}

// [batch, inC, H, W, outC, k, stride, pad]: tiny, odd sizes, strides, the paper's 3x3 pad 1,
// the authors' pad 0, 64 channels (tile-sized), 1x1 and even kernels, widths that are
// multiples of 4 with stride 2 (the register core's shifted-row packing) and the paper's
// 64-channel 28x28 layer on 3 images.
const CASES: number[][] = [
  [1, 1, 5, 5, 1, 3, 1, 1],
  [2, 3, 7, 6, 5, 3, 2, 1],
  [3, 2, 9, 9, 4, 1, 1, 0],
  [2, 64, 8, 8, 64, 3, 1, 1],
  [1, 3, 32, 32, 64, 3, 1, 1],
  [3, 4, 10, 11, 6, 3, 1, 0],
  [2, 2, 9, 7, 3, 4, 3, 2],
  [2, 3, 16, 16, 5, 3, 2, 1],
  [2, 2, 20, 24, 3, 4, 2, 1],
  [3, 64, 28, 28, 64, 3, 1, 1],
];

for (const [batch, inC, inH, inW, outC, k, stride, pad] of CASES) {
  const g: ConvGeometry = { batch, inC, inH, inW, outC, k, stride, pad };
  for (const variant of VARIANTS) {
    gpuTest(
      `conv2d ${JSON.stringify(g)} (${variant}): forward and backward match float64`,
      (gpu) => withVariant(gpu, variant, () => checkConv(gpu, g, batch * 7 + inC)),
    );
  }
}

async function checkConv(gpu: Gpu, g: ConvGeometry, seed: number) {
  const r = await runConv(gpu, g, seed);
  const d = convDepths(g);
  const ref = convForward(g, r.xs, r.values.weight, r.values.bias);
  // Where the engine convolves by Winograd, its rounding scales with the transformed
  // magnitudes (a few times sum |w x|) over a depth of C + 11 (F(2x2, 3x3), the training
  // forward whose transformed input dW reuses) or C + 23 (F(4x4, 3x3)) instead of 9 C + 1.
  const forwardSide = winogradGradientApplies(gpu, g.outC, g.batch, g.inH, g.inW, g.pad) ? 2 : 4;
  const yBound = winogradApplies(gpu, g.inC, g.k, g.stride, g.pad)
    ? ((w) => bound(w.depth, w.scale))(
      winogradScale(g, r.xs, r.values.weight, r.values.bias, forwardSide),
    )
    : bound(d.forward, ref.scale);
  assertClose(r.y, ref.y, { bound: yBound }, "y");
  const grads = convBackward(g, r.xs, r.values.weight, r.dys);
  const scale = absBackward(g, r.xs, r.values.weight, r.dys);
  let dxBound = bound(d.dx, scale.dx);
  if (winogradApplies(gpu, g.outC, g.k, g.stride, g.k - 1 - g.pad)) {
    const { geometry, weights } = dxAsConv(g, r.values.weight);
    const w = winogradScale(geometry, r.dys, weights, undefined, 4);
    dxBound = bound(w.depth, w.scale);
  }
  assertClose(r.dx, grads.dx, { bound: dxBound }, "dx");
  // dW by F(3x3, 2x2) where the forward was Winograd and the output channels are whole vec4s.
  const dwBound = winogradApplies(gpu, g.inC, g.k, g.stride, g.pad) && g.outC % 4 === 0
    ? ((w) => bound(w.depth, w.scale))(winogradGradScale(g, r.xs, r.dys))
    : bound(d.dw, scale.dw);
  assertClose(r.dw, grads.dw, { bound: dwBound }, "dW");
  assertClose(r.db, grads.db, { bound: bound(d.dw, scale.db) }, "db");
}

for (const variant of VARIANTS) {
  gpuTest(
    `conv2d weight gradient over more than one K chunk (12 images of 28x28) is split and summed (${variant})`,
    (gpu) =>
      withVariant(gpu, variant, async () => {
        const g: ConvGeometry = {
          batch: 12,
          inC: 1,
          inH: 28,
          inW: 28,
          outC: 2,
          k: 3,
          stride: 1,
          pad: 1,
        };
        const r = await runConv(gpu, g, 5);
        const grads = convBackward(g, r.xs, r.values.weight, r.dys);
        const scale = absBackward(g, r.xs, r.values.weight, r.dys);
        const d = convDepths(g);
        assertClose(r.dw, grads.dw, { bound: bound(d.dw, scale.dw) }, "dW");
        assertClose(r.db, grads.db, { bound: bound(d.dw, scale.db) }, "db");
      }),
  );
}

for (const variant of VARIANTS) {
  gpuTest(
    `conv2d matches PyTorch-generated fixtures (stride, padding, even kernel) (${variant})`,
    (gpu) =>
      withVariant(gpu, variant, async () => {
        // The fixtures are float64; inputs are rounded to float32 here, so the comparison allows
        // the float32 rounding of inputs and sums: 2e-5 relative to the magnitude of the terms.
        for (const c of fixtures.cases) {
          const g = c.geometry as ConvGeometry;
          const f32 = (a: number[]) => Float32Array.from(a);
          const r = await runConv(
            gpu,
            g,
            1,
            { weight: f32(c.weight), bias: f32(c.bias) },
            f32(c.x),
            f32(c.dy),
          );
          const scale =
            convForward(g, c.x.map(Math.abs), c.weight.map(Math.abs), c.bias.map(Math.abs)).y;
          const gs = absBackward(g, c.x, c.weight, c.dy);
          assertClose(r.y, c.y, { bound: (i) => 2e-5 * scale[i] + 1e-6 }, "torch y");
          assertClose(r.dx, c.dx, { bound: (i) => 2e-5 * gs.dx[i] + 1e-6 }, "torch dx");
          assertClose(r.dw, c.dweight, { bound: (i) => 2e-5 * gs.dw[i] + 1e-6 }, "torch dW");
          assertClose(r.db, c.dbias, { bound: (i) => 2e-5 * gs.db[i] + 1e-6 }, "torch db");
        }
      }),
  );
}

Deno.test("conv2d float64 reference: dx is the convolution of dy with W rotated; the Winograd scale is at least sum |w x|", () => {
  for (const pad of [0, 1, 2]) {
    const g: ConvGeometry = { batch: 2, inC: 3, inH: 7, inW: 6, outC: 4, k: 3, stride: 1, pad };
    const [oh, ow] = outSize(g);
    const x = randomArray(2 * 3 * 7 * 6, 5 + pad), w = randomArray(4 * 3 * 9, 6 + pad);
    const dy = randomArray(2 * 4 * oh * ow, 7 + pad);
    const { geometry, weights } = dxAsConv(g, w);
    const dx = convForward(geometry, dy, weights, new Float64Array(g.inC)).y;
    assertClose(dx, convBackward(g, x, w, dy).dx, { bound: () => 1e-12 }, `dx, pad ${pad}`);
    const direct = convForward(g, x, w, new Float64Array(g.outC)).scale;
    for (const side of [2, 4] as const) {
      const { scale } = winogradScale(g, x, w, undefined, side);
      scale.forEach((s, i) => {
        if (!(s >= direct[i] * (1 - 1e-12))) throw new Error(`Winograd scale ${s} < ${direct[i]}`);
      });
    }
  }
});

Deno.test("conv2d float64 reference backward equals central finite differences", () => {
  const g: ConvGeometry = { batch: 2, inC: 2, inH: 5, inW: 4, outC: 3, k: 3, stride: 2, pad: 1 };
  const [oh, ow] = outSize(g);
  const xs = Float64Array.from(randomArray(g.batch * g.inC * g.inH * g.inW, 1));
  const w = Float64Array.from(randomArray(g.outC * g.inC * g.k * g.k, 2));
  const b = Float64Array.from(randomArray(g.outC, 3));
  const r = projection(g.batch * g.outC * oh * ow, 4);
  const loss = (xx: ArrayLike<number>, ww: ArrayLike<number>, bb: ArrayLike<number>) =>
    convForward(g, xx, ww, bb).y.reduce((s, v, i) => s + r[i] * v, 0);
  const grads = convBackward(g, xs, w, r);
  checkGradient64((v) => loss(v, w, b), xs, grads.dx, { what: "dx" });
  checkGradient64((v) => loss(xs, v, b), w, grads.dw, { what: "dW" });
  checkGradient64((v) => loss(xs, w, v), b, grads.db, { what: "db" });
});

for (const variant of VARIANTS) {
  gpuTest(
    `conv2d GPU backward equals finite differences of the GPU forward (${variant})`,
    (gpu) =>
      withVariant(gpu, variant, async () => {
        const g: ConvGeometry = {
          batch: 2,
          inC: 2,
          inH: 6,
          inW: 5,
          outC: 3,
          k: 3,
          stride: 2,
          pad: 1,
        };
        const [oh, ow] = outSize(g);
        const layer = new Conv2d(g.inC, g.outC, g.k, { stride: g.stride, padding: g.pad });
        const { store, values } = setupLayer(gpu, layer, [g.inC, g.inH, g.inW], { seed: 9 });
        const xs = randomArray(g.batch * g.inC * g.inH * g.inW, 10);
        const r = Float32Array.from(projection(g.batch * g.outC * oh * ow, 11));
        const weight = store.bindingsOf(0)[0].value;
        const ctx: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
        const lossAt = async (xv: Float32Array, wv: Float32Array) => {
          gpu.write(weight, wv);
          const x = activation(gpu, xv, g.batch, [g.inC, g.inH, g.inW]);
          const y = layer.forward({ ...ctx, training: false }, x);
          const out = await y.read();
          x.dispose();
          y.dispose();
          return out.reduce((s, v, i) => s + r[i] * v, 0);
        };
        const x = activation(gpu, xs, g.batch, [g.inC, g.inH, g.inW]);
        layer.forward(ctx, x).dispose();
        const dy = activation(gpu, r, g.batch, [g.outC, oh, ow]);
        const dx = await layer.backward(ctx, dy).read();
        const dw = await gradOf(store, 0, "weight");
        await checkGradientGpu((v) => lossAt(v, values.weight), xs, dx, { what: "dx" });
        await checkGradientGpu((v) => lossAt(xs, v), values.weight, dw, { what: "dW" });
        x.dispose();
        dy.dispose();
        store.dispose();
      }),
  );
}

for (const variant of VARIANTS) {
  gpuTest(
    `conv2d forward at G perturbed points equals the materialised weights (full and subspace) (${variant})`,
    (gpu) =>
      withVariant(gpu, variant, async () => {
        // 3 input channels: the direct convolution; 4 (on the register core): Winograd, with
        // one input group shared by the points or a group per point.
        for (const [inC, grouped] of [[3, false], [4, false], [4, true]] as const) {
          await checkPerturbedConv(gpu, inC, grouped);
        }
      }),
  );
}

/** Conv2d at 3 Gaussian and 3 subspace points against float64 at the materialised weights. */
async function checkPerturbedConv(gpu: Gpu, inC: number, grouped: boolean): Promise<void> {
  const g: ConvGeometry = {
    batch: 2,
    inC,
    inH: 6,
    inW: 5,
    outC: 4,
    k: 3,
    stride: 1,
    pad: 1,
  };
  const points = 3;
  const winograd = winogradApplies(gpu, g.inC, g.k, g.stride, g.pad);
  // The rounding bound of the path the engine takes, at weights w and bias b.
  const rounding = (xs: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) => {
    if (!winograd) return bound(convDepths(g).forward, convForward(g, xs, w, b).scale);
    const s = winogradScale(g, xs, w, b, 4);
    return bound(s.depth, s.scale);
  };
  const layer = new Conv2d(g.inC, g.outC, g.k, { stride: g.stride, padding: g.pad });
  const { store, values } = setupLayer(gpu, layer, [g.inC, g.inH, g.inW], {
    seed: 4,
    lead: 130,
  });
  const [wb, bb] = store.bindingsOf(1);
  const per = g.batch * g.inC * g.inH * g.inW;
  const all = randomArray((grouped ? points : 1) * per, 13);
  const xsOf = (p: number) => grouped ? all.subarray(p * per, (p + 1) * per) : all;
  const x = Tensor.from(gpu, all, [grouped ? points : 1, g.batch, g.inC, g.inH, g.inW]);
  const xs = xsOf(0);
  const seed = 5, sigma = 0.2, firstPoint = 10;
  const base = { gpu, training: false, seed: 0, step: 0 };
  const y = layer.forward({
    ...base,
    perturbation: { mode: "full", points, seed, sigma, firstPoint },
  }, x);
  const got = await y.read();
  const outPer = got.length / points;
  const nWeights = values.weight.length;
  // Noise error bound of the f32 Box-Muller (see random_test.ts), summed over the taps with
  // weights |x| * sigma; bounded loosely by the largest radius times sum |x| over the window.
  const noise = (r: number) => r * 2 ** -11 + Math.min(2 ** -10, 2 ** -20 / r) + 1e-5 * (1 + r);
  for (let p = 0; p < points; p++) {
    const nw = normalRef(nWeights, seed, firstPoint + p, RNG_DOMAIN.perturbation, wb.offset);
    const nb = normalRef(g.outC, seed, firstPoint + p, RNG_DOMAIN.perturbation, bb.offset);
    const w = values.weight.map((v, i) => v + sigma * nw.values[i]);
    const b = values.bias.map((v, i) => v + sigma * nb.values[i]);
    const ref = convForward(g, xsOf(p), w, b);
    const maxNoise = Math.max(...nw.radius, ...nb.radius);
    const xScale = convForward(
      g,
      Float64Array.from(xsOf(p), Math.abs),
      new Float64Array(nWeights).fill(1),
      new Float64Array(g.outC).fill(1),
    ).y;
    const r = rounding(xsOf(p), w, b);
    const bnd = (i: number) => r(i) + sigma * noise(maxNoise) * xScale[i];
    assertClose(
      got.subarray(p * outPer, (p + 1) * outPer),
      ref.y,
      { bound: bnd },
      `[${inC}${grouped ? ", grouped" : ""}] point ${p}`,
    );
  }
  if (grouped) {
    for (const t of [x, y]) t.dispose();
    store.dispose();
    return;
  }
  const n = store.values.size, dim4 = 8;
  const dirs = randomArray(n * dim4, 31), coef = randomArray(points * dim4, 32);
  const directions = Tensor.from(gpu, dirs, [n, dim4]);
  const coefficients = Tensor.from(gpu, coef, [points, dim4]);
  const ys = layer.forward({
    ...base,
    perturbation: { mode: "subspace", points, directions, coefficients },
  }, x);
  const gotS = await ys.read();
  for (let p = 0; p < points; p++) {
    const shift = (offset: number, i: number) => {
      let s = 0;
      for (let j = 0; j < dim4; j++) s += coef[p * dim4 + j] * dirs[(offset + i) * dim4 + j];
      return s;
    };
    const w = values.weight.map((v, i) => v + shift(wb.offset, i));
    const b = values.bias.map((v, i) => v + shift(bb.offset, i));
    const ref = convForward(g, xs, w, b);
    const r = rounding(xs, w, b);
    // Each perturbed parameter carries about dim4 roundings of terms below 1 in size.
    const xScale = convForward(
      g,
      Float64Array.from(xs, Math.abs),
      new Float64Array(nWeights).fill(1),
      new Float64Array(g.outC).fill(1),
    ).y;
    const bnd = (i: number) => r(i) + 2 * dim4 * EPS32 * xScale[i];
    assertClose(
      gotS.subarray(p * outPer, (p + 1) * outPer),
      ref.y,
      { bound: bnd },
      `[${inC}] subspace ${p}`,
    );
  }
  for (const t of [x, y, ys, directions, coefficients]) t.dispose();
  store.dispose();
}

gpuTest(
  "Winograd products through the workgroup-tile core's accessors (where the register core cannot take them) match float64",
  async (gpu) => {
    // The register core runs these products; its fallback reads U, V and U' through gemm_a and
    // gemm_b. Run both the forward and the weight gradient on the tiled core.
    const g: ConvGeometry = { batch: 2, inC: 4, inH: 6, inW: 5, outC: 8, k: 3, stride: 1, pad: 1 };
    const [oh, ow] = outSize(g);
    const xs = randomArray(g.batch * g.inC * g.inH * g.inW, 41);
    const dys = randomArray(g.batch * g.outC * oh * ow, 42);
    const w = randomArray(g.outC * g.inC * 9, 43), b = randomArray(g.outC, 44);
    const values = Tensor.from(gpu, new Float32Array([...w, ...b]));
    const grads = Tensor.zeros(gpu, [w.length + b.length]);
    const x = Tensor.from(gpu, xs, [1, g.batch, g.inC, g.inH, g.inW]);
    const dy = Tensor.from(gpu, dys, [1, g.batch, g.outC, oh, ow]);
    const y = Tensor.empty(gpu, [1, g.batch, g.outC, oh, ow]);
    setGemmVariant(gpu, "tiled");
    try {
      const conv = { batch: g.batch, channels: g.inC, outChannels: g.outC, inH: g.inH, inW: g.inW };
      const kept = recordWinograd(gpu, {
        ...conv,
        input: x,
        output: y,
        pad: g.pad,
        params: values,
        wAt: 0,
        flip: false,
        bAt: w.length,
      }, true);
      assert(kept?.transformedInput, "one pass, transformed input kept");
      recordWinogradGradient(gpu, {
        ...conv,
        dy,
        transformedInput: kept.transformedInput,
        pad: g.pad,
        grads,
        wAt: 0,
        bAt: w.length,
      });
      const [gy, gg] = await readTensors([y, grads]);
      kept.transformedInput.dispose();
      const ref = convForward(g, xs, w, b);
      const fwd = winogradScale(g, xs, w, b);
      assertClose(gy, ref.y, { bound: bound(fwd.depth, fwd.scale) }, "y");
      const back = convBackward(g, xs, w, dys);
      const grad = winogradGradScale(g, xs, dys);
      assertClose(
        gg.subarray(0, w.length),
        back.dw,
        { bound: bound(grad.depth, grad.scale) },
        "dW",
      );
      const scale = absBackward(g, xs, w, dys);
      assertClose(
        gg.subarray(w.length),
        back.db,
        { bound: bound(convDepths(g).dw, scale.db) },
        "db",
      );
    } finally {
      setGemmVariant(gpu, undefined);
      for (const t of [values, grads, x, dy, y]) t.dispose();
    }
  },
);

Deno.test("Winograd passes keep V below REGISTER_MAX_DIM rows, so that the products read it in place", () => {
  const gpu = {
    limits: {
      maxStorageBufferBindingSize: 2 ** 31 - 1,
      maxComputeWorkgroupsPerDimension: 65_535,
      maxTextureDimension2D: 8192,
    },
    device: { limits: { minStorageBufferOffsetAlignment: 256 } },
  } as unknown as Parameters<typeof imagesPerPass>[0];
  // F(4x4, 3x3) on 28 x 28 images, pad 1: 36 slices of 49 tiles per image; C = K = 4.
  const g = { outH: 28, outW: 28, tilesH: 7, tilesW: 7, tiles: 49, slices: 36 };
  const conv = { batch: 4000, channels: 4, outChannels: 4, inH: 28, inW: 28 };
  const n = imagesPerPass(gpu, conv, g);
  assert(n >= 1 && n < 4000, `${n} images per pass`);
  assert(36 * 49 * n < REGISTER_MAX_DIM, `${36 * 49 * n} rows of V`);
  // The bindings alone would take every image.
  assert(4000 * 36 * 49 * 4 * 4 < gpu.limits.maxStorageBufferBindingSize);
  // G points read every image in one pass: none fits, and the caller convolves directly.
  const points = { perturbation: { points: 41 }, groups: 41, wIndex: 0, bIndex: 0 };
  const at = (batch: number) =>
    imagesPerPass(gpu, { ...conv, batch, points } as unknown as typeof conv, g);
  assert(at(60) === 0, `${at(60)}`); // 41 x 36 x 49 x 60 rows > 2^22, in 69 MB of bindings
  assert(at(50) === 50, `${at(50)}`);
  // The input transform reads a pass's input from a texture copy: its rows must fit too.
  const small = { ...gpu, limits: { ...gpu.limits, maxTextureDimension2D: 1024 } };
  const textured = imagesPerPass(small, conv, g);
  assert(textured >= 1 && textured < n, `${textured} images per pass, ${n} with 8192`);
  assert(Math.ceil(textured * 784 / 1024) <= 1024, `${textured} images' texels`);
  assert(Math.ceil((textured + 1) * 784 / 1024) > 1024, `${textured} images: one more fits`);
});
