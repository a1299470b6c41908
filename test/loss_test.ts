import type { Gpu } from "../src/gpu/gpu.ts";
import { correctCount, softmaxCrossEntropy, softmaxCrossEntropyBackward } from "../src/nn/loss.ts";
import { REDUCE_LAYOUT } from "../src/ops/reduce.ts";
import { readTensors, Tensor } from "../src/tensor.ts";
import { checkGradient64, checkGradientGpu } from "./gradcheck.ts";
import {
  assertBitwiseEqual,
  assertClose,
  EPS32,
  foldedGpu,
  gpuTest,
  randomArray,
} from "./helpers.ts";
import { correctCountRef, crossEntropyBackwardRef, crossEntropyRef } from "./reference/loss.ts";

// Error bounds, from WGSL's accuracy rules (ULP <= 2^-23 relative; +, -, * correctly rounded:
// 2^-24 relative; exp(x) 3 + 2|x| ULP; log 2^-21 absolute on [0.5, 2], else 3 ULP; division
// 2.5 ULP), with d_c = x_c - max (rounded once) and q = softmax:
// - s = sum exp(d_c): relative error ds <= sum_c q_c (3 + 2.5 |d_c|) 2^-23 + (C - 1) 2^-24;
// - loss = log(s) - d_label: |error| <= ds + 2^-21 + 3 * 2^-23 log(s) + 2^-24 (|d_label| + |loss|);
// - mean: the row reduction of depth items + log2(wg), times fl(1/B);
// - gradient (q - onehot) * fl(1/B), q = exp(d)/s: q's relative error (5.5 + 2.5|d|) 2^-23 + ds,
//   plus 2^-126 absolute: exp(d) below the normal range may underflow or be flushed to 0.
const ULP = 2 ** -23;
const DEPTH = REDUCE_LAYOUT.items + Math.log2(REDUCE_LAYOUT.workgroupSize);

/** Per-row bounds: loss error, and the relative error of the shifted sum. */
function bounds(logits: ArrayLike<number>, labels: ArrayLike<number>, groups: number, C: number) {
  const ref = crossEntropyRef(logits, labels, groups, C);
  const rows = ref.losses.length;
  const ds = new Float64Array(rows), loss = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[r * C + c]);
    const s = Math.exp(ref.logSum[r]);
    let e = (C - 1) * EPS32;
    for (let c = 0; c < C; c++) {
      const d = logits[r * C + c] - m;
      e += (Math.exp(d) / s) * (3 + 2.5 * Math.abs(d)) * ULP;
    }
    ds[r] = e;
    loss[r] = e + 2 ** -21 + 3 * ULP * ref.logSum[r] +
      EPS32 * (Math.abs(ref.picked[r]) + Math.abs(ref.losses[r]));
  }
  return { ref, ds, loss };
}

function meanBound(ref: ReturnType<typeof crossEntropyRef>, loss: Float64Array, B: number) {
  return (g: number) => {
    let err = 0, abs = 0;
    for (let b = 0; b < B; b++) {
      err += loss[g * B + b];
      abs += Math.abs(ref.losses[g * B + b]);
    }
    return err / B + (DEPTH + 2) * EPS32 * abs / B;
  };
}

function gradBound(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  C: number,
  ds: Float64Array,
) {
  const B = labels.length;
  const { grad, softmax } = crossEntropyBackwardRef(logits, labels, C);
  const rowMax = Float64Array.from({ length: B }, (_, r) => {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[r * C + c]);
    return m;
  });
  return {
    grad,
    bound: (i: number) => {
      const r = Math.floor(i / C), q = softmax[i];
      const eq = (5.5 + 2.5 * Math.abs(logits[i] - rowMax[r])) * ULP + ds[r];
      return (q * eq + EPS32 * Math.abs(q - (i % C === labels[r] ? 1 : 0))) / B +
        ULP * Math.abs(grad[i]) + 2 ** -126; // exp may underflow (or flush) to 0
    },
  };
}

interface LossCase {
  name: string;
  shape: [number, number];
  logits: number[];
  labels: number[];
  losses32: number[];
  losses64: number[];
  mean32: number;
  mean64: number;
  grad32: number[];
  grad64: number[];
}

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/loss.json", import.meta.url)),
) as { cases: LossCase[] };

gpuTest("cross-entropy matches PyTorch (fixture, incl. logits of +-1000 and 3e4)", async (gpu) => {
  for (const c of fixture.cases) {
    const [B, C] = c.shape;
    const xs = Float32Array.from(c.logits);
    const { ref, ds, loss } = bounds(xs, c.labels, 1, C);
    // The float64 reference agrees with PyTorch's float64 results on the same inputs.
    assertClose(ref.losses, c.losses64, { atol: 1e-12, rtol: 1e-12 }, `${c.name}: ref losses`);
    const refGrad = crossEntropyBackwardRef(xs, c.labels, C).grad;
    assertClose(refGrad, c.grad64, { atol: 1e-15, rtol: 1e-12 }, `${c.name}: ref gradient`);

    const logits = Tensor.from(gpu, xs, [1, B, C]);
    const labels = Tensor.from(gpu, Uint32Array.from(c.labels));
    const { losses, mean } = softmaxCrossEntropy(logits, labels);
    const dlogits = softmaxCrossEntropyBackward(logits, labels);
    const [gl, gm, gd] = await readTensors([losses, mean, dlogits]);
    assertClose(gl, c.losses64, { bound: (i) => loss[i] }, `${c.name}: losses`);
    assertClose(gm, [c.mean64], { bound: meanBound(ref, loss, B) }, `${c.name}: mean`);
    const { bound } = gradBound(xs, c.labels, C, ds);
    assertClose(gd, c.grad64, { bound }, `${c.name}: gradient`);
    // And PyTorch's own float32 results are within a few roundings of ours.
    assertClose(gl, c.losses32, { atol: 2e-6, rtol: 4e-6 }, `${c.name}: vs torch float32`);
    assertClose(gd, c.grad32, { atol: 1e-7, rtol: 1e-5 }, `${c.name}: grad vs torch float32`);
    for (const t of [logits, labels, losses, mean, dlogits]) t.dispose();
  }
});

async function checkRandom(gpu: Gpu, G: number, B: number, C: number, seed: number) {
  const xs = randomArray(G * B * C, seed, -6, 6);
  const ys = Uint32Array.from(randomArray(B, seed + 1, 0, C), Math.floor);
  const logits = Tensor.from(gpu, xs, [G, B, C]);
  const labels = Tensor.from(gpu, ys);
  const { losses, mean } = softmaxCrossEntropy(logits, labels);
  const outs = [losses, mean];
  const dlogits = G === 1 ? softmaxCrossEntropyBackward(logits, labels) : null;
  const [gl, gm] = await readTensors(outs);
  const { ref, ds, loss } = bounds(xs, ys, G, C);
  const what = `G=${G} B=${B} C=${C}`;
  if (losses.shape.join() !== `${G},${B}` || mean.shape.join() !== `${G}`) {
    throw new Error(`${what}: shapes [${losses.shape}] and [${mean.shape}]`);
  }
  assertClose(gl, ref.losses, { bound: (i) => loss[i] }, `losses ${what}`);
  assertClose(gm, ref.mean, { bound: meanBound(ref, loss, B) }, `mean ${what}`);
  if (dlogits) {
    const { grad, bound } = gradBound(xs, ys, C, ds);
    assertClose(await dlogits.read(), grad, { bound }, `gradient ${what}`);
    dlogits.dispose();
  }
  for (const t of [logits, labels, losses, mean]) t.dispose();
}

gpuTest("cross-entropy matches float64 on awkward shapes and group counts", async (gpu) => {
  await checkRandom(gpu, 1, 1, 2, 1);
  await checkRandom(gpu, 2, 1, 3, 2);
  await checkRandom(gpu, 3, 37, 10, 3);
  await checkRandom(gpu, 1, 300, 10, 4);
  await checkRandom(gpu, 1, 5, 1000, 5);
});

gpuTest("cross-entropy: folded dispatches (at most 8 workgroups per dimension)", async () => {
  const gpu = await foldedGpu();
  await checkRandom(gpu, 3, 1000, 10, 6); // 3,000 rows: 12 workgroups
  await checkRandom(gpu, 1, 2900, 4, 7); // 12 workgroups of gradient rows
  await checkCorrect(gpu, 5, 600, 7, 8); // 15 workgroups
});

async function checkCorrect(gpu: Gpu, G: number, B: number, C: number, seed: number) {
  // Integer logits in {0, 1, 2}: many ties, which go to the lowest index.
  const xs = Float32Array.from(randomArray(G * B * C, seed, 0, 3), Math.floor);
  const ys = Uint32Array.from(randomArray(B, seed + 1, 0, C), Math.floor);
  const logits = Tensor.from(gpu, xs, [G, B, C]);
  const labels = Tensor.from(gpu, ys);
  const counts = correctCount(logits, labels);
  const got = await counts.read();
  const ref = correctCountRef(xs, ys, G, C);
  assertBitwiseEqual(got, ref, `correct counts G=${G} B=${B} C=${C}`);
  if (ref.every((v) => v === 0)) throw new Error("a test of counting should count something");
  for (const t of [logits, labels, counts]) t.dispose();
}

gpuTest("correctCount: argmax with ties to the lowest index, per group", async (gpu) => {
  await checkCorrect(gpu, 1, 1, 3, 1);
  await checkCorrect(gpu, 3, 300, 7, 2);
  await checkCorrect(gpu, 2, 513, 2, 3);
  // A row of equal logits predicts class 0.
  const logits = Tensor.from(gpu, [5, 5, 5, 1, 9, 9], [1, 2, 3]);
  const labels = Tensor.from(gpu, Uint32Array.from([0, 1]));
  const counts = correctCount(logits, labels);
  assertBitwiseEqual(await counts.read(), [2], "ties");
  for (const t of [logits, labels, counts]) t.dispose();
});

gpuTest("labels >= C give NaN losses, NaN gradient rows and never count", async (gpu) => {
  const G = 2, B = 4, C = 10;
  const xs = randomArray(G * B * C, 9, -3, 3);
  const ys = Uint32Array.from([0, 10, 3, 0xffffffff]);
  // Bad rows predict class C - 1, where a label clamped into range would land: not a hit.
  for (let g = 0; g < G; g++) for (const b of [1, 3]) xs[(g * B + b) * C + C - 1] = 10;
  const logits = Tensor.from(gpu, xs, [G, B, C]);
  const labels = Tensor.from(gpu, ys);
  const { losses, mean } = softmaxCrossEntropy(logits, labels);
  const counts = correctCount(logits, labels);
  const one = logits.view([1, B, C]);
  const grad = softmaxCrossEntropyBackward(one, labels);
  const [gl, gm, gc, gd] = await readTensors([losses, mean, counts, grad]);
  const { ref, loss } = bounds(xs, ys, G, C);
  for (let r = 0; r < G * B; r++) {
    const bad = ys[r % B] >= C;
    if (bad !== Number.isNaN(gl[r])) throw new Error(`row ${r}: loss ${gl[r]}`);
    if (!bad) assertClose([gl[r]], [ref.losses[r]], { atol: loss[r] }, `loss row ${r}`);
  }
  if (!gm.every(Number.isNaN)) throw new Error(`means should be NaN, got ${gm}`);
  for (let i = 0; i < B * C; i++) {
    const bad = ys[Math.floor(i / C)] >= C;
    if (bad !== Number.isNaN(gd[i])) throw new Error(`gradient [${i}] = ${gd[i]}`);
  }
  assertBitwiseEqual(gc, correctCountRef(xs, ys, G, C), "counts");
  for (const t of [logits, labels, losses, mean, counts, grad]) t.dispose();
});

gpuTest("cross-entropy rejects bad shapes and a multi-group gradient", async (gpu) => {
  const logits = Tensor.zeros(gpu, [2, 3, 4]);
  const labels = Tensor.zeros(gpu, [3], "u32");
  const wrong = Tensor.zeros(gpu, [4], "u32");
  const errors: [string, () => unknown][] = [
    ["gradient of 2 groups", () => softmaxCrossEntropyBackward(logits, labels)],
    ["labels of the wrong length", () => softmaxCrossEntropy(logits, wrong)],
    ["2-D logits", () => softmaxCrossEntropy(logits.view([6, 4]), labels)],
  ];
  for (const [what, f] of errors) {
    let thrown = false;
    try {
      f();
    } catch {
      thrown = true;
    }
    if (!thrown) throw new Error(`expected an error: ${what}`);
  }
  for (const t of [logits, labels, wrong]) t.dispose();
  await gpu.flush();
});

gpuTest("cross-entropy backward: finite differences (float64 reference and GPU)", async (gpu) => {
  const B = 4, C = 5;
  const xs = randomArray(B * C, 12, -2, 2);
  const ys = Uint32Array.from([1, 4, 0, 2]);
  checkGradient64(
    (v) => crossEntropyRef(v, ys, 1, C).mean[0],
    xs,
    crossEntropyBackwardRef(xs, ys, C).grad,
    { what: "cross-entropy reference" },
  );
  const logits = Tensor.from(gpu, xs, [1, B, C]);
  const labels = Tensor.from(gpu, ys);
  const dlogits = softmaxCrossEntropyBackward(logits, labels);
  const grad = await dlogits.read();
  await checkGradientGpu(
    async (probe) => {
      const t = Tensor.from(gpu, probe, [1, B, C]);
      const { losses, mean } = softmaxCrossEntropy(t, labels);
      const [m] = await mean.read();
      for (const u of [t, losses, mean]) u.dispose();
      return m;
    },
    xs,
    grad,
    { what: "cross-entropy GPU", atol: 1e-4, rtol: 1e-2 },
  );
  for (const t of [logits, labels, dlogits]) t.dispose();
});
