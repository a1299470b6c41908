import type { Gpu } from "../src/gpu/gpu.ts";
import { Dense } from "../src/nn/dense.ts";
import { type GemmVariant, setGemmVariant } from "../src/nn/gemm.ts";
import type { ForwardContext } from "../src/nn/layer.ts";
import { RNG_DOMAIN } from "../src/rng/philox.ts";
import { readTensors, Tensor } from "../src/tensor.ts";
import { checkGradient64, checkGradientGpu, projection } from "./gradcheck.ts";
import { assertClose, EPS32, foldedGpu, gpuTest, randomArray, sumBound } from "./helpers.ts";
import { activation, gradOf, setupLayer } from "./layers.ts";
import { denseBackward, denseForward } from "./reference/dense.ts";
import { normalRef } from "./reference/random.ts";

const dotBound = sumBound;

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

// (batch, in, out): tiny, non-multiples of the 64x64 tile and 16-deep slices, and the paper's MLP.
const SHAPES: [number, number, number][] = [[1, 1, 1], [3, 7, 5], [65, 70, 67], [64, 784, 128], [
  130,
  33,
  10,
]];

for (const [batch, inF, outF] of SHAPES) {
  for (const variant of VARIANTS) {
    gpuTest(
      `dense ${batch}x${inF} -> ${outF} (${variant}): forward and backward match float64`,
      (gpu) => withVariant(gpu, variant, () => denseCase(gpu, batch, inF, outF)),
    );
  }
}

async function denseCase(gpu: Gpu, batch: number, inF: number, outF: number) {
  const layer = new Dense(inF, outF);
  const { store, values } = setupLayer(gpu, layer, [inF], { seed: batch + inF, lead: 100 });
  const xs = randomArray(batch * inF, 3 * inF + batch);
  const dys = randomArray(batch * outF, 5 * outF + batch);
  const ctx: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
  const x = activation(gpu, xs, batch, [inF]);
  const y = layer.forward(ctx, x);
  const dy = activation(gpu, dys, batch, [outF]);
  const dx = layer.backward(ctx, dy);
  const [yv, dxv] = await readTensors([y, dx]);
  const ref = denseForward(xs, values.weight, values.bias, batch, inF, outF);
  assertClose(yv, ref.y, { bound: dotBound(inF + 1, ref.scale) }, "y");
  const g = denseBackward(xs, values.weight, dys, batch, inF, outF);
  const absW = Float64Array.from(values.weight, Math.abs), absX = Float64Array.from(xs, Math.abs);
  const absDy = Float64Array.from(dys, Math.abs);
  const dxScale = denseBackward(absX, absW, absDy, batch, inF, outF);
  assertClose(dxv, g.dx, { bound: dotBound(outF, dxScale.dx) }, "dx");
  assertClose(
    await gradOf(store, 1, "weight"),
    g.dw,
    { bound: dotBound(batch, dxScale.dw) },
    "dW",
  );
  assertClose(await gradOf(store, 1, "bias"), g.db, { bound: dotBound(batch, dxScale.db) }, "db");
  for (const t of [x, y, dy, dx]) t.dispose();
  layer.release();
  store.dispose();
}

Deno.test("dense float64 reference backward equals central finite differences", () => {
  const [batch, inF, outF] = [3, 4, 5];
  const xs = Float64Array.from(randomArray(batch * inF, 1));
  const w = Float64Array.from(randomArray(outF * inF, 2));
  const b = Float64Array.from(randomArray(outF, 3));
  const r = projection(batch * outF, 4);
  const loss = (xx: ArrayLike<number>, ww: ArrayLike<number>, bb: ArrayLike<number>) =>
    denseForward(xx, ww, bb, batch, inF, outF).y.reduce((s, v, i) => s + r[i] * v, 0);
  const g = denseBackward(xs, w, r, batch, inF, outF);
  checkGradient64((v) => loss(v, w, b), xs, g.dx, { what: "dx" });
  checkGradient64((v) => loss(xs, v, b), w, g.dw, { what: "dW" });
  checkGradient64((v) => loss(xs, w, v), b, g.db, { what: "db" });
});

for (const variant of VARIANTS) {
  gpuTest(
    `dense GPU backward equals finite differences of the GPU forward (${variant})`,
    (gpu) =>
      withVariant(gpu, variant, async () => {
        const [batch, inF, outF] = [5, 9, 6];
        const layer = new Dense(inF, outF);
        const { store, values } = setupLayer(gpu, layer, [inF], { seed: 7 });
        const xs = randomArray(batch * inF, 8);
        const r = Float32Array.from(projection(batch * outF, 9));
        const ctx: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
        const weight = store.bindingsOf(0)[0].value;
        const lossAt = async (xv: Float32Array, wv: Float32Array) => {
          gpu.write(weight, wv);
          const x = activation(gpu, xv, batch, [inF]);
          const y = layer.forward({ ...ctx, training: false }, x);
          const out = await y.read();
          x.dispose();
          y.dispose();
          return out.reduce((s, v, i) => s + r[i] * v, 0);
        };
        const x = activation(gpu, xs, batch, [inF]);
        layer.forward(ctx, x).dispose();
        const dy = activation(gpu, r, batch, [outF]);
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
    `dense weight gradient splits long batches (K past one chunk) correctly (${variant})`,
    (gpu) =>
      withVariant(gpu, variant, async () => {
        const [batch, inF, outF] = [9000, 5, 3];
        const layer = new Dense(inF, outF);
        const { store, values } = setupLayer(gpu, layer, [inF], { seed: 3 });
        const xs = randomArray(batch * inF, 4), dys = randomArray(batch * outF, 5);
        const ctx: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
        const x = activation(gpu, xs, batch, [inF]);
        layer.forward(ctx, x).dispose();
        const dy = activation(gpu, dys, batch, [outF]);
        layer.backward(ctx, dy).dispose();
        const g = denseBackward(xs, values.weight, dys, batch, inF, outF);
        const s = denseBackward(
          Float64Array.from(xs, Math.abs),
          Float64Array.from(values.weight, Math.abs),
          Float64Array.from(dys, Math.abs),
          batch,
          inF,
          outF,
        );
        assertClose(await gradOf(store, 0, "weight"), g.dw, { bound: dotBound(batch, s.dw) }, "dW");
        assertClose(await gradOf(store, 0, "bias"), g.db, { bound: dotBound(batch, s.db) }, "db");
        x.dispose();
        dy.dispose();
        store.dispose();
      }),
  );
}

for (const variant of VARIANTS) {
  gpuTest(
    `dense forward at G perturbed points equals the materialised weights (full, antithetic pairs, subspace, subspace on a shared input) (${variant})`,
    (gpu) =>
      withVariant(gpu, variant, async () => {
        // Flat offsets are not zero. The register core reads 12 and 16 inputs in vec4s with
        // the weights packed four at a time: at a flat index 0 mod 4 (a model's parameters
        // start on 64-element boundaries: one noise block per four weights) and, bound by
        // hand, 2 and 1 mod 4 (two blocks).
        for (const [inF, indexShift] of [[11, 0], [12, 0], [12, 2], [16, 1]]) {
          await checkPerturbed(gpu, inF, indexShift);
        }
      }),
  );
}

/** Dense forward at 5 points against float64, its flat indices moved by `indexShift`. */
async function checkPerturbed(gpu: Gpu, inF: number, indexShift: number): Promise<void> {
  const [batch, outF, points] = [6, 7, 5];
  const layer = new Dense(inF, outF);
  const { store, values } = setupLayer(gpu, layer, [inF], { seed: 2, lead: 70 });
  const [wb, bb] = store.bindingsOf(1).map((b) => ({ ...b, offset: b.offset + indexShift }));
  layer.bind([wb, bb]);
  const xs = randomArray(batch * inF, 12);
  const x = activation(gpu, xs, batch, [inF]);
  const seed = 77, sigma = 0.3, firstPoint = 4;
  const y = layer.forward({
    gpu,
    training: false,
    seed: 0,
    step: 0,
    perturbation: { mode: "full", points, seed, sigma, firstPoint },
  }, x);
  const got = await y.read();
  for (let g = 0; g < points; g++) {
    const t = firstPoint + g;
    const nw = normalRef(outF * inF, seed, t, RNG_DOMAIN.perturbation, wb.offset);
    const nb = normalRef(outF, seed, t, RNG_DOMAIN.perturbation, bb.offset);
    const w = values.weight.map((v, i) => v + sigma * nw.values[i]);
    const b = values.bias.map((v, i) => v + sigma * nb.values[i]);
    const ref = denseForward(xs, w, b, batch, inF, outF);
    // GEMM rounding plus the f32 Box-Muller error of each noise value (see random_test.ts),
    // times sigma and |x|.
    const noise = (r: number) => r * 2 ** -11 + Math.min(2 ** -10, 2 ** -20 / r) + 1e-5 * (1 + r);
    const bound = (i: number) => {
      const m = Math.floor(i / outF), n = i % outF;
      let e = sigma * noise(nb.radius[n]);
      for (let k = 0; k < inF; k++) {
        e += sigma * Math.abs(xs[m * inF + k]) *
          noise(nw.radius[n * inF + k]);
      }
      return e + dotBound(inF + 1, ref.scale)(i);
    };
    assertClose(
      got.subarray(g * batch * outF, (g + 1) * batch * outF),
      ref.y,
      { bound },
      `[${inF}] at ${wb.offset}, point ${g}`,
    );
  }
  // Antithetic pairs from an odd first point (the chunk starts and ends inside a pair): point t
  // is w* ± sigma eps_{t/2}, computed as P ± Q_p + b with P = x w*^T and Q_p = x (sigma eps_p)^T,
  // so the rounding scale is that of both products.
  const firstOdd = 3;
  const ya = layer.forward({
    gpu,
    training: false,
    seed: 0,
    step: 0,
    perturbation: { mode: "full", points, seed, sigma, firstPoint: firstOdd, antithetic: true },
    sharedInput: true,
  }, x);
  const gotA = await ya.read();
  for (let g = 0; g < points; g++) {
    const t = firstOdd + g, pair = Math.floor(t / 2), sign = t % 2 ? -1 : 1;
    const nw = normalRef(outF * inF, seed, pair, RNG_DOMAIN.perturbation, wb.offset);
    const nb = normalRef(outF, seed, pair, RNG_DOMAIN.perturbation, bb.offset);
    const step = nw.values.map((v) => sign * sigma * v);
    const w = values.weight.map((v, i) => v + step[i]);
    const b = values.bias.map((v, i) => v + sign * sigma * nb.values[i]);
    const ref = denseForward(xs, w, b, batch, inF, outF);
    const center = denseForward(xs, values.weight, b, batch, inF, outF).scale;
    const noiseScale = denseForward(xs, step, new Float64Array(outF), batch, inF, outF).scale;
    const noise = (r: number) => r * 2 ** -11 + Math.min(2 ** -10, 2 ** -20 / r) + 1e-5 * (1 + r);
    const bound = (i: number) => {
      const m = Math.floor(i / outF), n = i % outF;
      let e = sigma * noise(nb.radius[n]);
      for (let k = 0; k < inF; k++) {
        e += sigma * Math.abs(xs[m * inF + k]) * noise(nw.radius[n * inF + k]);
      }
      return e + (inF + 4) * EPS32 * (center[i] + noiseScale[i]) + 1e-30;
    };
    assertClose(
      gotA.subarray(g * batch * outF, (g + 1) * batch * outF),
      ref.y,
      { bound },
      `[${inF}] at ${wb.offset}, antithetic point ${t}`,
    );
  }
  ya.dispose();
  // Subspace: w_g = w* + sum_j a[g, j] d_j with dim 3 (padded to 4).
  const n = store.values.size, dim4 = 4;
  const dirs = randomArray(n * dim4, 21).map((v, i) => (i % dim4 === 3 ? 0 : v));
  const coef = randomArray(points * dim4, 22).map((v, i) => (i % dim4 === 3 ? 0 : v));
  const directions = Tensor.from(gpu, dirs, [n, dim4]);
  const coefficients = Tensor.from(gpu, coef, [points, dim4]);
  const ys = layer.forward({
    gpu,
    training: false,
    seed: 0,
    step: 0,
    perturbation: { mode: "subspace", points, directions, coefficients },
  }, x);
  const gotS = await ys.read();
  for (let g = 0; g < points; g++) {
    const shift = (offset: number, i: number) => {
      let s = 0;
      for (let j = 0; j < dim4; j++) s += coef[g * dim4 + j] * dirs[(offset + i) * dim4 + j];
      return s;
    };
    const w = values.weight.map((v, i) => v + shift(wb.offset, i));
    const b = values.bias.map((v, i) => v + shift(bb.offset, i));
    const ref = denseForward(xs, w, b, batch, inF, outF);
    // Each perturbed weight carries up to 4 roundings of terms of size <= |w| + 3.
    const bound = (i: number) => dotBound(inF + 1, ref.scale)(i) + 8 * EPS32 * 4 * (inF + 1) * 2;
    assertClose(
      gotS.subarray(g * batch * outF, (g + 1) * batch * outF),
      ref.y,
      { bound },
      `[${inF}] at ${wb.offset}, subspace ${g}`,
    );
  }
  // The same points on an input they share: P = x w*^T and Q_j = x d_j^T once, each point
  // P + sum_j a_gj Q_j + b_g. Each product rounds as a sum of inF terms, then the combine adds
  // dim + 2 roundings of terms of the sizes of P, a_gj Q_j and b_g.
  const dim = 3;
  const yb = layer.forward({
    gpu,
    training: false,
    seed: 0,
    step: 0,
    perturbation: { mode: "subspace", points, directions, coefficients, dim },
    sharedInput: true,
  }, x);
  const gotB = await yb.read();
  const absX = Float64Array.from(xs, Math.abs), noBias = new Float64Array(outF);
  const column = (offset: number, size: number, j: number) =>
    Float64Array.from({ length: size }, (_, i) => dirs[(offset + i) * dim4 + j]);
  const center = denseForward(xs, values.weight, noBias, batch, inF, outF).scale;
  const dirScale = Array.from(
    { length: dim },
    (_, j) => denseForward(absX, column(wb.offset, outF * inF, j), noBias, batch, inF, outF).scale,
  );
  for (let g = 0; g < points; g++) {
    const a = (j: number) => coef[g * dim4 + j];
    const shift = (offset: number, i: number) => {
      let s = 0;
      for (let j = 0; j < dim; j++) s += a(j) * dirs[(offset + i) * dim4 + j];
      return s;
    };
    const w = values.weight.map((v, i) => v + shift(wb.offset, i));
    const b = values.bias.map((v, i) => v + shift(bb.offset, i));
    const ref = denseForward(xs, w, b, batch, inF, outF);
    const bound = (i: number) => {
      const n = i % outF;
      let terms = center[i] + Math.abs(values.bias[n]);
      for (let j = 0; j < dim; j++) {
        terms += Math.abs(a(j)) * (dirScale[j][i] + Math.abs(dirs[(bb.offset + n) * dim4 + j]));
      }
      return (inF + dim + 4) * EPS32 * terms + 1e-30;
    };
    assertClose(
      gotB.subarray(g * batch * outF, (g + 1) * batch * outF),
      ref.y,
      { bound },
      `[${inF}] at ${wb.offset}, subspace ${g} on a shared input`,
    );
  }
  for (const t of [x, y, ys, yb, directions, coefficients]) t.dispose();
  store.dispose();
}

for (const variant of VARIANTS) {
  gpuTest(
    `dense forward and backward fold tile counts past the per-dimension workgroup limit (${variant})`,
    async () => {
      const gpu = await foldedGpu(); // at most 8 workgroups per dimension
      await withVariant(gpu, variant, async () => {
        const [batch, inF, outF] = [600, 70, 130]; // 10 x 3 tiles of C
        const layer = new Dense(inF, outF);
        const { store, values } = setupLayer(gpu, layer, [inF], { seed: 6 });
        const xs = randomArray(batch * inF, 7), dys = randomArray(batch * outF, 8);
        const ctx: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
        const x = activation(gpu, xs, batch, [inF]);
        const y = layer.forward(ctx, x);
        const dy = activation(gpu, dys, batch, [outF]);
        const dx = layer.backward(ctx, dy);
        const [yv, dxv] = await readTensors([y, dx]);
        const ref = denseForward(xs, values.weight, values.bias, batch, inF, outF);
        assertClose(yv, ref.y, { bound: dotBound(inF + 1, ref.scale) }, "y");
        const g = denseBackward(xs, values.weight, dys, batch, inF, outF);
        const s = denseBackward(
          Float64Array.from(xs, Math.abs),
          Float64Array.from(values.weight, Math.abs),
          Float64Array.from(dys, Math.abs),
          batch,
          inF,
          outF,
        );
        assertClose(dxv, g.dx, { bound: dotBound(outF, s.dx) }, "dx");
        assertClose(await gradOf(store, 0, "weight"), g.dw, { bound: dotBound(batch, s.dw) }, "dW");
        for (const t of [x, y, dy, dx]) t.dispose();
        store.dispose();
      });
    },
  );
}
