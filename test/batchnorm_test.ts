import assert from "node:assert/strict";
import type { Gpu } from "../src/gpu/gpu.ts";
import { BatchNorm, BATCHNORM_LAYOUT } from "../src/nn/batchnorm.ts";
import type { ForwardContext } from "../src/nn/layer.ts";
import type { Perturbation } from "../src/nn/perturbation.ts";
import { REDUCE_LAYOUT } from "../src/ops/reduce.ts";
import { RNG_DOMAIN } from "../src/rng/philox.ts";
import { readTensors, Tensor } from "../src/tensor.ts";
import { checkGradient64, checkGradientGpu, projection } from "./gradcheck.ts";
import { assertClose, EPS32, gpuTest, randomArray } from "./helpers.ts";
import {
  batchNormBackwardRef,
  batchNormEvalRef,
  batchNormTrainRef,
  type BnDims,
  channelOf,
  runningUpdateRef,
} from "./reference/batchnorm.ts";
import { normalRef } from "./reference/random.ts";
import fixture from "./fixtures/batchnorm.json" with { type: "json" };

const EPS = 1e-5;
const MOMENTUM = 0.1;
/** Flat trainable index of gamma (beta follows at FLAT + C): nonzero and not a multiple of 4. */
const FLAT = 1001;
const SENTINEL = 777;

const trainCtx = (gpu: Gpu): ForwardContext => ({ gpu, training: true, seed: 0, step: 0 });
const evalCtx = (gpu: Gpu, perturbation?: Perturbation): ForwardContext => ({
  gpu,
  training: false,
  seed: 0,
  step: 0,
  perturbation,
});

interface Init {
  gamma: Float32Array;
  beta: Float32Array;
  runMean: Float32Array;
  runVar: Float32Array;
}

/** Parameters away from the defaults, so that reading each of them is tested. */
function randomInit(channels: number, seed: number): Init {
  return {
    gamma: randomArray(channels, seed, 0.25, 1.75),
    beta: randomArray(channels, seed + 1, -0.5, 0.5),
    runMean: randomArray(channels, seed + 2, -0.5, 0.5),
    runVar: randomArray(channels, seed + 3, 0.5, 1.5),
  };
}

/**
 * Parameters laid out like a model's flat vectors but deliberately unaligned: gamma and beta
 * start 3 elements (12 bytes) into the value and gradient buffers, the running statistics 5
 * elements in, so no parameter view sits on a storage-offset alignment. Gradient padding holds
 * a sentinel that backward must leave alone.
 */
class Harness {
  readonly layer: BatchNorm;
  readonly values: Tensor;
  readonly grads: Tensor;
  readonly stats: Tensor;

  constructor(readonly gpu: Gpu, readonly channels: number, init: Init) {
    const c = channels;
    this.layer = new BatchNorm();
    const v = new Float32Array(3 + 2 * c + 4);
    v.set(init.gamma, 3);
    v.set(init.beta, 3 + c);
    const s = new Float32Array(5 + 2 * c + 2).fill(SENTINEL);
    s.set(init.runMean, 5);
    s.set(init.runVar, 5 + c);
    this.values = Tensor.from(gpu, v);
    this.grads = Tensor.from(gpu, new Float32Array(v.length).fill(SENTINEL));
    this.stats = Tensor.from(gpu, s);
    const specs = this.layer.paramSpecs([c, 2, 2]);
    assert.deepEqual(specs.map((p) => [p.name, p.kind, p.shape, p.init]), [
      ["weight", "norm", [c], { kind: "constant", value: 1 }],
      ["bias", "norm", [c], { kind: "constant", value: 0 }],
      ["running_mean", "running", [c], { kind: "constant", value: 0 }],
      ["running_var", "running", [c], { kind: "constant", value: 1 }],
    ]);
    this.layer.bind([
      { value: this.values.view([c], 3), grad: this.grads.view([c], 3), offset: FLAT },
      { value: this.values.view([c], 3 + c), grad: this.grads.view([c], 3 + c), offset: FLAT + c },
      { value: this.stats.view([c], 5), offset: -1 },
      { value: this.stats.view([c], 5 + c), offset: -1 },
    ]);
  }

  setGamma(g: Float32Array): void {
    this.gpu.write(this.values.view([this.channels], 3), g);
  }

  setBeta(b: Float32Array): void {
    this.gpu.write(this.values.view([this.channels], 3 + this.channels), b);
  }

  /** Splits read-back grads and stats buffers; checks the padding is untouched. */
  unpack(grads: Float32Array, stats: Float32Array) {
    const c = this.channels;
    const pad = [...grads.slice(0, 3), ...grads.slice(3 + 2 * c), ...stats.slice(0, 5)]
      .concat([...stats.slice(5 + 2 * c)]);
    assert.ok(pad.every((v) => v === SENTINEL), `padding overwritten: ${pad}`);
    return {
      dgamma: grads.slice(3, 3 + c),
      dbeta: grads.slice(3 + c, 3 + 2 * c),
      runMean: stats.slice(5, 5 + c),
      runVar: stats.slice(5 + c, 5 + 2 * c),
    };
  }

  dispose(): void {
    this.layer.release();
    for (const t of [this.values, this.grads, this.stats]) t.dispose();
  }
}

/** Input data with per-channel scale and offset: a tiny-variance channel (where eps matters)
 * and a channel offset by 40 (cancellation in x - mean). */
function channelData(d: BnDims, seed: number, plain = false): Float32Array {
  const scales = [1, 0.003, 2.5, 0.7, 1.3];
  const shifts = [0.2, -0.1, 40, -1.5, 0];
  const u = randomArray(d.batch * d.channels * d.spatial, seed);
  if (plain) return u;
  return u.map((v, i) => {
    const c = channelOf(d, i) % 5;
    return v * scales[c] + shifts[c];
  });
}

/**
 * Rounding depth of the per-channel sums: the partial-sum pass adds at most `items` values (or
 * vec4s) in sequence, the four lanes of a vec4 in 2 levels, and log2(workgroup) in its tree;
 * each reduceRows pass over the partials adds its own items + log2(workgroup); +2 for the
 * scaling by 1/n.
 */
function depth(n: number): number {
  const { workgroupSize, items } = BATCHNORM_LAYOUT;
  let d = items + 2 + Math.log2(workgroupSize) + 2;
  let chunks = Math.ceil(n / (workgroupSize * items));
  while (chunks > 1) {
    chunks = Math.ceil(chunks / (REDUCE_LAYOUT.workgroupSize * REDUCE_LAYOUT.items));
    d += REDUCE_LAYOUT.items + Math.log2(REDUCE_LAYOUT.workgroupSize);
  }
  return d;
}

/**
 * Error bounds of the GPU's float32 training step against the float64 reference, from a
 * first-order rounding analysis with eps = 2^-24 and D = depth(n):
 * - mean: |dmu| <= D eps mean|x| (summation of depth D);
 * - invstd and scale = gamma * invstd: relative error rho = (D / 2 + 6) eps (variance sum of
 *   depth D plus the roundings of x - mean and its square, halved by the square root; 2 ULP
 *   for inverseSqrt; the products);
 * - y = (x - mean) * scale + beta: |scale| (|dmu| + |x - mu| rho) + 2 eps (|y| + |beta|);
 * - sums of dy and dy * xhat: depth-D summation plus the error of xhat in each term;
 * - dx: the errors of the two means, of xhat and of scale, plus 3 roundings of the terms.
 * Each bound is doubled for the second-order terms the analysis drops. `slack` adds k eps times
 * each quantity's magnitude (PyTorch's own float32 rounding, for the fixtures).
 */
function trainBounds(
  xs: ArrayLike<number>,
  dys: ArrayLike<number>,
  d: BnDims,
  init: Init,
  slack = 0,
) {
  const e = EPS32, n = d.batch * d.spatial, m = MOMENTUM;
  const D = depth(n), rho = (D / 2 + 6) * e;
  const ref = batchNormTrainRef(xs, d, init.gamma, init.beta, EPS);
  const back = batchNormBackwardRef(xs, dys, d, init.gamma, EPS);
  const run = runningUpdateRef(init.runMean, init.runVar, ref.mean, ref.variance, n, m);
  const dmu = ref.absMean.map((a) => D * e * a);
  const sAbs = ref.invstd.map((s, c) => Math.abs(init.gamma[c]) * s);
  const absDy = new Float64Array(d.channels), absDyXhat = new Float64Array(d.channels);
  for (let i = 0; i < xs.length; i++) {
    const c = channelOf(d, i);
    absDy[c] += Math.abs(dys[i]);
    absDyXhat[c] += Math.abs(dys[i] * ref.xhat[i]);
  }
  const dgammaRaw = (c: number) =>
    D * e * absDyXhat[c] + absDy[c] * ref.invstd[c] * dmu[c] + absDyXhat[c] * (rho + 2 * e);
  const k = slack * e;
  return {
    ref,
    back,
    run,
    y: (i: number) => {
      const c = channelOf(d, i);
      const dev = Math.abs(xs[i] - ref.mean[c]);
      return 2 *
          (sAbs[c] * (dmu[c] + dev * rho) + 2 * e * (Math.abs(ref.y[i]) + Math.abs(init.beta[c]))) +
        k * (sAbs[c] * (Math.abs(xs[i]) + Math.abs(ref.mean[c])) + Math.abs(init.beta[c]));
    },
    runMean: (c: number) =>
      2 * (m * dmu[c] + 3 * e * (Math.abs(init.runMean[c]) + m * Math.abs(ref.mean[c]))) +
      k * (Math.abs(init.runMean[c]) + Math.abs(ref.mean[c])),
    runVar: (c: number) => {
      const vu = ref.variance[c] * n / (n - 1);
      return 2 * (m * vu * (D + 3) * e + 3 * e * (init.runVar[c] + m * vu)) +
        k * (init.runVar[c] + vu);
    },
    dbeta: (c: number) => 2 * D * e * absDy[c] + k * absDy[c],
    dgamma: (c: number) => 2 * dgammaRaw(c) + k * absDyXhat[c],
    dx: (i: number) => {
      const c = channelOf(d, i);
      const xhat = Math.abs(ref.xhat[i]);
      const mdy = Math.abs(back.dbeta[c]) / n, mdx = Math.abs(back.dgamma[c]) / n;
      const em = D * e * absDy[c] / n, ex = dgammaRaw(c) / n;
      const exhat = ref.invstd[c] * dmu[c] + xhat * (rho + 2 * e);
      const terms = Math.abs(dys[i]) + mdy + xhat * mdx;
      const ev = em + xhat * ex + mdx * exhat + 3 * e * terms;
      return 2 * (sAbs[c] * ev + Math.abs(back.dx[i]) * rho) + k * sAbs[c] * terms;
    },
  };
}

/** Eval: inverseSqrt (2 ULP), the sum with eps, scale, difference, product and sum: 7 eps of
 * |gamma invstd (x - mean)| and 2 eps of |y| + |beta|, doubled. */
function evalBound(
  xs: ArrayLike<number>,
  d: BnDims,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  init: Init,
  y: ArrayLike<number>,
): (i: number) => number {
  return (i) => {
    const c = channelOf(d, i);
    const z = Math.abs(gamma[c] * (xs[i] - init.runMean[c])) / Math.sqrt(init.runVar[c] + EPS);
    return 2 * (7 * EPS32 * z + 2 * EPS32 * (Math.abs(y[i]) + Math.abs(beta[c])));
  };
}

/** One training forward and backward on the GPU; reads y, dx, gradients, running stats. */
async function gpuStep(h: Harness, shape: number[], xs: Float32Array, dys: Float32Array) {
  const x = Tensor.from(h.gpu, xs, [1, ...shape]);
  const dy = Tensor.from(h.gpu, dys, [1, ...shape]);
  const ctx = trainCtx(h.gpu);
  const y = h.layer.forward(ctx, x);
  const dx = h.layer.backward(ctx, dy);
  h.layer.release();
  const [yv, dxv, grads, stats] = await readTensors([y, dx, h.grads, h.stats]);
  for (const t of [x, dy, y, dx]) t.dispose();
  assert.deepEqual(y.shape, [1, ...shape]);
  return { y: yv, dx: dxv, ...h.unpack(grads, stats) };
}

function dims(shape: number[]): BnDims {
  const [batch, channels, ...rest] = shape;
  return { batch, channels, spatial: rest.reduce((a, b) => a * b, 1) };
}

/** Train forward + backward + running update against float64, within trainBounds. */
async function checkTrain(gpu: Gpu, shape: number[], seed: number, what: string) {
  const d = dims(shape);
  const init = randomInit(d.channels, seed);
  const h = new Harness(gpu, d.channels, init);
  const xs = channelData(d, seed + 10);
  const dys = randomArray(xs.length, seed + 11);
  const got = await gpuStep(h, shape, xs, dys);
  h.dispose();
  const b = trainBounds(xs, dys, d, init);
  assertClose(got.y, b.ref.y, { bound: b.y }, `${what} y`);
  assertClose(got.runMean, b.run.runMean, { bound: b.runMean }, `${what} running_mean`);
  assertClose(got.runVar, b.run.runVar, { bound: b.runVar }, `${what} running_var`);
  assertClose(got.dbeta, b.back.dbeta, { bound: b.dbeta }, `${what} dbeta`);
  assertClose(got.dgamma, b.back.dgamma, { bound: b.dgamma }, `${what} dgamma`);
  assertClose(got.dx, b.back.dx, { bound: b.dx }, `${what} dx`);
}

gpuTest("batchnorm train forward and backward match float64 on awkward shapes", async (gpu) => {
  const shapes = [
    [2, 1], // n = 2, the smallest batch PyTorch trains on
    [7, 5],
    [33, 300], // more channels than one workgroup of coefficients
    [1, 4, 3, 3], // batch 1 is fine per channel when H * W > 1
    [5, 2, 1, 1],
    [3, 3, 5, 7],
    [2, 3, 70, 70], // 9,800 values per channel: several partial sums per channel
    [10, 8], // C % 4 == 0, S == 1: normalize and dx four channels at a time
    [3, 8, 2, 6], // C % 4 == 0, S % 4 == 0: every pass four values at a time
    [2, 4, 70, 70], // the same with several partial sums per channel
    [16, 64, 14, 14], // the paper CNN's batch norm on 14x14 inputs, batch 16
  ];
  for (const [k, shape] of shapes.entries()) {
    await checkTrain(gpu, shape, 100 * k + 1, `[${shape}]`);
  }
});

gpuTest("batchnorm statistics past 65,535 values per channel (lavapipe loop cap)", async (gpu) => {
  await checkTrain(gpu, [64, 2, 32, 32], 7, "64x32x32 = 65,536 per channel");
  await checkTrain(gpu, [65_537, 2], 8, "batch 65,537 dense");
  await checkTrain(gpu, [3, 2, 150, 150], 9, "3x150x150 = 67,500 per channel");
});

gpuTest("batchnorm running statistics after two training steps, then eval", async (gpu) => {
  const shape = [6, 4, 3, 2], d = dims(shape), n = d.batch * d.spatial;
  const init = randomInit(d.channels, 21);
  const h = new Harness(gpu, d.channels, init);
  const x1 = channelData(d, 22), x2 = channelData(d, 23).map((v) => 0.5 * v + 0.25);
  const dys = randomArray(x1.length, 24);
  const s1 = await gpuStep(h, shape, x1, dys);
  const s2 = await gpuStep(h, shape, x2, dys);
  const b1 = trainBounds(x1, dys, d, init);
  // Step 2 starts from the GPU's own step-1 statistics, so its bound is that of one step, plus
  // step 1's error carried with weight (1 - momentum).
  const b2 = trainBounds(x2, dys, d, { ...init, runMean: s1.runMean, runVar: s1.runVar });
  const r1 = b1.run,
    r2 = runningUpdateRef(r1.runMean, r1.runVar, b2.ref.mean, b2.ref.variance, n, MOMENTUM);
  const carry = (f: (c: number) => number, g: (c: number) => number) => (c: number) =>
    f(c) + (1 - MOMENTUM) * g(c);
  assertClose(s1.runMean, r1.runMean, { bound: b1.runMean }, "running_mean step 1");
  assertClose(s1.runVar, r1.runVar, { bound: b1.runVar }, "running_var step 1");
  assertClose(
    s2.runMean,
    r2.runMean,
    { bound: carry(b2.runMean, b1.runMean) },
    "running_mean step 2",
  );
  assertClose(s2.runVar, r2.runVar, { bound: carry(b2.runVar, b1.runVar) }, "running_var step 2");
  assertClose(s2.y, b2.ref.y, { bound: b2.y }, "y step 2");

  // Eval uses the running statistics the GPU holds now.
  const x3 = channelData(d, 25);
  const x = Tensor.from(gpu, x3, [1, ...shape]);
  const y = h.layer.forward(evalCtx(gpu), x);
  const [yv] = await readTensors([y]);
  const now = { ...init, runMean: s2.runMean, runVar: s2.runVar };
  const expected = batchNormEvalRef(x3, d, init.gamma, init.beta, s2.runMean, s2.runVar, EPS);
  assertClose(
    yv,
    expected,
    { bound: evalBound(x3, d, init.gamma, init.beta, now, expected) },
    "eval y",
  );
  for (const t of [x, y]) t.dispose();
  h.dispose();
});

gpuTest("batchnorm rejects what PyTorch rejects, and misuse", async (gpu) => {
  const h = new Harness(gpu, 3, randomInit(3, 31));
  const ctx = trainCtx(gpu);
  const cases: [number[], RegExp][] = [
    [[1, 1, 3], /more than 1 value per channel/], // BatchNorm1d, batch 1
    [[1, 1, 3, 1, 1], /more than 1 value per channel/], // BatchNorm2d, batch 1 of 1x1
    [[2, 1, 3], /one group/],
    [[1, 4, 5], /3 channels/],
  ];
  for (const [shape, pattern] of cases) {
    const x = Tensor.zeros(gpu, shape);
    assert.throws(() => h.layer.forward(ctx, x), pattern);
    x.dispose();
  }
  const dy = Tensor.zeros(gpu, [1, 2, 3]);
  assert.throws(() => h.layer.backward(ctx, dy), /training forward first/);
  dy.dispose();
  const x = Tensor.zeros(gpu, [2, 4, 3]);
  assert.throws(
    () => h.layer.forward(evalCtx(gpu, { mode: "full", points: 3, seed: 1, sigma: 1 }), x),
    /input groups must be 1 or 3/,
  );
  assert.throws(
    () =>
      h.layer.forward({ ...ctx, perturbation: { mode: "full", points: 2, seed: 1, sigma: 1 } }, x),
    /eval mode only/,
  );
  // batch 1 with H * W = 2 trains, as in PyTorch.
  const ok = Tensor.zeros(gpu, [1, 1, 3, 1, 2]);
  const y = h.layer.forward(ctx, ok);
  await readTensors([y]);
  for (const t of [x, ok, y]) t.dispose();
  assert.throws(() => new BatchNorm({ momentum: 1.5 }), /momentum/);
  assert.throws(() => new BatchNorm({ eps: 0 }), /eps/);
  assert.throws(() => h.layer.outputShape([]), /per-sample shape/);
  assert.deepEqual(h.layer.outputShape([3, 4, 5]), [3, 4, 5]);
  h.dispose();
});

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

Deno.test("batchnorm float64 reference backward passes central finite differences", () => {
  for (const shape of [[5, 3], [3, 2, 2, 3]]) {
    const d = dims(shape);
    const init = randomInit(d.channels, 41);
    const xs = Float64Array.from(channelData(d, 42, true));
    const r = projection(xs.length, 43);
    const back = batchNormBackwardRef(xs, r, d, init.gamma, EPS);
    const loss = (x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) =>
      dot(r, batchNormTrainRef(x, d, g, b, EPS).y);
    // Float64 differences with h = 1e-6: truncation ~h^2, cancellation ~1e-16 * |loss| / h,
    // both below 1e-8 here; a gradient off by 1e-4 relative is rejected (checked below).
    const tol = { rtol: 1e-6, atol: 1e-8 };
    checkGradient64((x) => loss(x, init.gamma, init.beta), xs, back.dx, { ...tol, what: "dx" });
    checkGradient64((g) => loss(xs, g, init.beta), init.gamma, back.dgamma, {
      ...tol,
      what: "dgamma",
    });
    checkGradient64((b) => loss(xs, init.gamma, b), init.beta, back.dbeta, {
      ...tol,
      what: "dbeta",
    });
    assert.throws(() =>
      checkGradient64(
        (x) => loss(x, init.gamma, init.beta),
        xs,
        back.dx.map((v) => v * (1 + 1e-4)),
        tol,
      )
    );
  }
});

gpuTest("batchnorm GPU backward matches GPU finite differences", async (gpu) => {
  for (const shape of [[5, 3], [3, 2, 3, 2]]) {
    const d = dims(shape);
    const init = randomInit(d.channels, 51);
    const h = new Harness(gpu, d.channels, init);
    const xs = channelData(d, 52, true);
    const r = projection(xs.length, 53);
    const loss = async (x32: Float32Array) => {
      const x = Tensor.from(gpu, x32, [1, ...shape]);
      const y = h.layer.forward(trainCtx(gpu), x);
      const [yv] = await readTensors([y]);
      for (const t of [x, y]) t.dispose();
      h.layer.release();
      return dot(r, yv);
    };
    const got = await gpuStep(h, shape, xs, Float32Array.from(r));
    // Float32 forward, h = 1e-2: truncation O(h^2) ~1e-4 relative for unit-variance channels,
    // rounding of the loss ~1e-7 * sum|r y| / 2h ~1e-4; the helper's rtol 2e-2 + atol 1e-3 is
    // above both, and a gradient 10% off is rejected (checked below).
    await checkGradientGpu(loss, xs, got.dx, { what: `[${shape}] dx` });
    await checkGradientGpu(
      async (g) => {
        h.setGamma(g);
        return await loss(xs);
      },
      init.gamma,
      got.dgamma,
      { what: `[${shape}] dgamma` },
    );
    h.setGamma(init.gamma);
    await checkGradientGpu(
      async (b) => {
        h.setBeta(b);
        return await loss(xs);
      },
      init.beta,
      got.dbeta,
      { what: `[${shape}] dbeta` },
    );
    h.setBeta(init.beta);
    await assert.rejects(checkGradientGpu(loss, xs, got.dx.map((v) => v * 1.1)));
    h.dispose();
  }
});

type FixtureCase = typeof fixture.batchnorm1d;

for (const name of ["batchnorm1d", "batchnorm2d"] as const) {
  gpuTest(
    `batchnorm matches PyTorch ${name} (train, running stats, backward, eval)`,
    async (gpu) => {
      const fx: FixtureCase = fixture[name];
      assert.equal(fx.momentum, MOMENTUM);
      assert.equal(fx.eps, EPS);
      const d = dims(fx.shape);
      const f32 = (a: number[]) => Float32Array.from(a);
      let init: Init = {
        gamma: f32(fx.weight),
        beta: f32(fx.bias),
        runMean: f32(fx.running_mean),
        runVar: f32(fx.running_var),
      };
      const h = new Harness(gpu, d.channels, init);
      // |ours - PyTorch's| running statistics before the step (0 at the start: same values).
      let diffMean = new Float64Array(d.channels), diffVar = new Float64Array(d.channels);
      for (const [k, step] of fx.steps.entries()) {
        const got = await gpuStep(h, fx.shape, f32(step.x), f32(step.dy));
        // PyTorch accumulates statistics in double and rounds in float32: its results are within
        // a few eps of each quantity's magnitude; add 8 eps of it to the float32 bounds above.
        // The running statistics also carry the measured difference of the previous step.
        const b = trainBounds(step.x, step.dy, d, init, 8);
        const what = `${name} step ${k + 1}`;
        const carriedMean = diffMean, carriedVar = diffVar;
        assertClose(got.y, step.y, { bound: b.y }, `${what} y`);
        assertClose(got.dx, step.dx, { bound: b.dx }, `${what} dx`);
        assertClose(got.dgamma, step.dweight, { bound: b.dgamma }, `${what} dweight`);
        assertClose(got.dbeta, step.dbias, { bound: b.dbeta }, `${what} dbias`);
        assertClose(got.runMean, step.running_mean, {
          bound: (c) => b.runMean(c) + (1 - MOMENTUM) * carriedMean[c],
        }, `${what} running_mean`);
        assertClose(got.runVar, step.running_var, {
          bound: (c) => b.runVar(c) + (1 - MOMENTUM) * carriedVar[c],
        }, `${what} running_var`);
        diffMean = Float64Array.from(got.runMean, (v, c) => Math.abs(v - step.running_mean[c]));
        diffVar = Float64Array.from(got.runVar, (v, c) => Math.abs(v - step.running_var[c]));
        init = { ...init, runMean: got.runMean, runVar: got.runVar };
      }
      const x = Tensor.from(gpu, f32(fx.eval.x), [1, ...fx.shape]);
      const y = h.layer.forward(evalCtx(gpu), x);
      const [yv] = await readTensors([y]);
      // PyTorch's eval output uses its running statistics, ours our own (init, now): the bound is
      // our rounding (evalBound), PyTorch's (8 eps of the terms' magnitudes) and the effect of the
      // measured statistic differences: |dy/dmean| |dmean| + |dy/dvar| |dvar|.
      const ours = batchNormEvalRef(
        fx.eval.x,
        d,
        init.gamma,
        init.beta,
        init.runMean,
        init.runVar,
        EPS,
      );
      const own = evalBound(fx.eval.x, d, init.gamma, init.beta, init, ours);
      const bound = (i: number) => {
        const c = channelOf(d, i);
        const s = Math.abs(init.gamma[c]) / Math.sqrt(init.runVar[c] + EPS);
        const dev = Math.abs(fx.eval.x[i] - init.runMean[c]);
        const torch = 8 * EPS32 *
          (s * (Math.abs(fx.eval.x[i]) + Math.abs(init.runMean[c])) + Math.abs(init.beta[c]));
        const stats = s * diffMean[c] + s * dev * diffVar[c] / (2 * (init.runVar[c] + EPS));
        return own(i) + torch + 1.01 * stats;
      };
      assertClose(yv, fx.eval.y, { bound }, `${name} eval y`);
      for (const t of [x, y]) t.dispose();
      h.dispose();
    },
  );
}

/** Normal draws regenerated on the GPU are within the WGSL accuracy bound of random_test.ts. */
const noiseBound = (r: number) => r * 2 ** -11 + Math.min(2 ** -10, 2 ** -20 / r) + 1e-5 * (1 + r);

gpuTest(
  "batchnorm eval with a full perturbation equals eval at gamma + sigma eps_t",
  async (gpu) => {
    // One value at a time; four positions of a channel; four channels of a position.
    for (const shape of [[3, 5, 2, 3], [3, 8, 2, 2], [6, 12]]) {
      await checkFullPerturbation(gpu, shape);
    }
  },
);

async function checkFullPerturbation(gpu: Gpu, shape: number[]): Promise<void> {
  {
    const d = dims(shape), C = d.channels, G = 3;
    const init = randomInit(C, 61);
    const h = new Harness(gpu, C, init);
    const p: Perturbation = { mode: "full", points: G, seed: 4242, sigma: 0.1, firstPoint: 7 };
    const per = shape.reduce((a, b) => a * b, 1);
    const shared = channelData(d, 62);
    const grouped = channelData({ ...d, batch: d.batch * G }, 63);
    const x1 = Tensor.from(gpu, shared, [1, ...shape]);
    const xg = Tensor.from(gpu, grouped, [G, ...shape]);
    const y1 = h.layer.forward(evalCtx(gpu, p), x1);
    const yg = h.layer.forward(evalCtx(gpu, p), xg);
    assert.deepEqual(y1.shape, [G, ...shape]);
    const [a, b] = await readTensors([y1, yg]);
    const expect = (offset: number) => {
      const ys: number[] = [], bs: number[] = [], ysG: number[] = [], bsG: number[] = [];
      for (let g = 0; g < G; g++) {
        const t = p.firstPoint! + g;
        const ng = normalRef(C, p.seed, t, RNG_DOMAIN.perturbation, offset);
        const nb = normalRef(C, p.seed, t, RNG_DOMAIN.perturbation, offset + C);
        const gamma = init.gamma.map((v, c) => v + p.sigma * ng.values[c]);
        const beta = init.beta.map((v, c) => v + p.sigma * nb.values[c]);
        for (
          const [xs, out, bounds] of [[shared, ys, bs], [
            grouped.subarray(g * per, (g + 1) * per),
            ysG,
            bsG,
          ]] as const
        ) {
          const y = batchNormEvalRef(xs, d, gamma, beta, init.runMean, init.runVar, EPS);
          const base = evalBound(xs, d, gamma, beta, init, y);
          for (let i = 0; i < y.length; i++) {
            const c = channelOf(d, i);
            const z = Math.abs(xs[i] - init.runMean[c]) / Math.sqrt(init.runVar[c] + EPS);
            out.push(y[i]);
            bounds.push(
              base(i) + p.sigma * (z * noiseBound(ng.radius[c]) + noiseBound(nb.radius[c])),
            );
          }
        }
      }
      return { ys, bs, ysG, bsG };
    };
    const e = expect(FLAT);
    assertClose(a, e.ys, { bound: (i) => e.bs[i] }, `full perturbation, shared input [${shape}]`);
    assertClose(
      b,
      e.ysG,
      { bound: (i) => e.bsG[i] },
      `full perturbation, grouped input [${shape}]`,
    );
    // The noise is keyed by the flat index: the same check at index 0 must fail.
    const wrong = expect(0);
    assert.throws(() => assertClose(a, wrong.ys, { bound: (i) => e.bs[i] }));
    for (const t of [x1, xg, y1, yg]) t.dispose();
    h.dispose();
  }
}

gpuTest(
  "batchnorm eval with a subspace perturbation equals eval at gamma + sum a_j d_j",
  async (gpu) => {
    const shape = [4, 3, 5], d = dims(shape), C = d.channels, G = 4, dim = 3, width = 4;
    const init = randomInit(C, 71);
    const h = new Harness(gpu, C, init);
    const N = FLAT + 2 * C + 5;
    const dirs = randomArray(N * width, 72).map((v, i) => (i % width < dim ? v : 0));
    const coefs = randomArray(G * width, 73, -0.3, 0.3).map((v, i) => (i % width < dim ? v : 0));
    const directions = Tensor.from(gpu, dirs, [N, width]);
    const coefficients = Tensor.from(gpu, coefs, [G, width]);
    const p: Perturbation = { mode: "subspace", points: G, directions, coefficients };
    const xs = channelData(d, 74);
    const x = Tensor.from(gpu, xs, [1, ...shape]);
    const y = h.layer.forward(evalCtx(gpu, p), x);
    const [got] = await readTensors([y]);
    const expected: number[] = [], bounds: number[] = [];
    for (let g = 0; g < G; g++) {
      // Point g's value of flat parameter i, and the sum of |a d| (float32 dot of 4 lanes: 5 eps).
      const shift = (i: number) => {
        let s = 0, abs = 0;
        for (let j = 0; j < width; j++) {
          s += coefs[g * width + j] * dirs[i * width + j];
          abs += Math.abs(coefs[g * width + j] * dirs[i * width + j]);
        }
        return { s, abs };
      };
      const gs = init.gamma.map((_, c) => shift(FLAT + c).s),
        ga = init.gamma.map((_, c) => shift(FLAT + c).abs);
      const bs = init.beta.map((_, c) => shift(FLAT + C + c).s),
        ba = init.beta.map((_, c) => shift(FLAT + C + c).abs);
      const gamma = init.gamma.map((v, c) => v + gs[c]), beta = init.beta.map((v, c) => v + bs[c]);
      const ref = batchNormEvalRef(xs, d, gamma, beta, init.runMean, init.runVar, EPS);
      const base = evalBound(xs, d, gamma, beta, init, ref);
      for (let i = 0; i < ref.length; i++) {
        const c = channelOf(d, i);
        const z = Math.abs(xs[i] - init.runMean[c]) / Math.sqrt(init.runVar[c] + EPS);
        expected.push(ref[i]);
        bounds.push(base(i) + 5 * EPS32 * (z * ga[c] + ba[c]));
      }
    }
    assertClose(got, expected, { bound: (i) => bounds[i] }, "subspace perturbation");
    for (const t of [directions, coefficients, x, y]) t.dispose();
    h.dispose();
  },
);
