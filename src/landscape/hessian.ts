/**
 * Curvature of prefix-mean losses at w*: gradients of a mean loss over a fixed set of samples
 * (the engine's backward pass), Hessian-vector products by central differences of those
 * gradients, and Hutchinson estimates of Tr(A) and Tr(A^2) with Rademacher probes, for the
 * theory check of Δk (see `theory.ts`).
 *
 * Everything stays on the GPU: vectors live in the model's padded flat parameter layout
 * (`model.params.values`), dot products use the engine's reductions, and only scalars are read
 * back, in batches.
 *
 * Finite-difference step. For a direction v, Hv ≈ (g(w* + εv) - g(w* - εv)) / (2ε) with
 *
 *     ε = h · (1 + rms(w*)) / rms(v),    rms(x) = |x| / sqrt(N),
 *
 * so every coordinate moves by about h · (1 + rms(w*)) (exactly that for a Rademacher v). The
 * error of the product has two parts: truncation, O(ε² |∇³L| |v|³) (zero for a quadratic
 * loss), and float32 rounding, about u · G / ε where u = 2^-24 and G is the size of the
 * gradient's terms (each gradient carries a rounding error of a few u times the sum of the
 * magnitudes it adds up, and the difference divides it by 2ε). For a smooth loss the two
 * balance near h ~ u^(1/3) ≈ 4e-3. ReLU and max-pool networks are only piecewise smooth: a
 * step that moves some pre-activation across zero adds an O(1/ε) spike to the product, and the
 * chance of that grows with ε and with the number of samples x units. Measured on a
 * one-hidden-layer ReLU MLP (16 units, 8x8 inputs) against a float64 reference: relative
 * error 3e-5 at h = 2^-12 when no kink is crossed, 3e-4 at 2^-15, 2e-3 at 2^-18 (rounding,
 * growing as 1/h), but O(1) at 2^-12 for every probe over 100 samples (kinks) and at 2^-8 even
 * for one sample. Hence the default h = 2^-12 and a kink test: with g(w*) also at hand, the
 * forward and backward differences F and B must agree, |F - B| / |F + B| ≈ ε|∇³L[v,v]| / 2|Hv|
 * plus rounding (measured 4e-4, 3e-4 and 3e-3 at the three steps above: 13x the actual error
 * at 2^-12, where the second difference sees third derivatives that cancel in the central
 * one, and 1.4-1.6x in the rounding regime), while a crossed kink makes it O(1) (measured 0.6
 * to 1). The Hutchinson estimator redoes a probe
 * whose ratio exceeds 1e-2 with the step divided by 8, at most twice (down to h = 2^-18), and
 * reports probes it could not resolve. The check is therefore for small models: with many
 * samples x units every step small enough to avoid kinks is lost to float32 rounding.
 *
 * Restrictions. Backward is defined only after a training-mode forward. Batch norm in train
 * mode normalises with batch statistics (so the loss of a set would depend on how it is split
 * into batches and would not be the eval-mode loss Δk uses) and dropout draws random masks, so
 * models with either are rejected: for the remaining layers train mode equals eval mode.
 * @module
 */
import { gather } from "../data/batches.ts";
import { assertHasParameters, assertModelFits } from "../nn/fits.ts";
import { softmaxCrossEntropy, softmaxCrossEntropyBackward } from "../nn/loss.ts";
import type { ForwardContext } from "../nn/layer.ts";
import type { Sequential } from "../nn/sequential.ts";
import { squaredError, squaredErrorBackward } from "../nn/squared_error.ts";
import { add, div, mul, scale, sub, unary } from "../ops/elementwise.ts";
import { sum } from "../ops/reduce.ts";
import { fillUniform } from "../ops/random.ts";
import { RNG_DOMAIN } from "../rng/philox.ts";
import { readTensors, shapeSize, Tensor } from "../tensor.ts";
import type { EvalData } from "./loss_matrix.ts";

/** Unit roundoff of float32. */
const U32 = 2 ** -24;

/** Default relative finite-difference step h (see the module notes). */
export const DEFAULT_RELATIVE_STEP = 2 ** -12;

/** Default most samples per forward/backward pass of a sample set. */
export const DEFAULT_MAX_BATCH = 1024;

/** Philox stream of Hutchinson probes (domain `fill`), so they differ from other fills. */
export const PROBE_STREAM = 0x48757463;

/**
 * Throws unless every layer of `model` computes the same function in train and eval mode and
 * has no randomness: batch norm and dropout (with p > 0) are rejected with the reason.
 */
export function assertCurvatureModel(model: Sequential): void {
  model.config.layers.forEach((spec, i) => {
    if (spec.type === "batchnorm") {
      throw new Error(
        `curvature needs a model without batch norm (layer ${i} is batchnorm): gradients come ` +
          `from a training forward, which normalises with batch statistics, not the running ` +
          `statistics the eval-mode loss uses`,
      );
    }
    if (spec.type === "dropout" && spec.p > 0) {
      throw new Error(
        `curvature needs a model without dropout (layer ${i} is dropout p=${spec.p}): ` +
          `gradients come from a training forward, where dropout masks are random`,
      );
    }
  });
}

/** 1 at every trainable entry of the model's flat parameter vector, 0 in the padding. */
export function trainableMask(model: Sequential): Float32Array {
  const mask = new Float32Array(model.params.values.size);
  for (const { spec, binding } of model.params.entries) {
    if (binding.offset >= 0) mask.fill(1, binding.offset, binding.offset + shapeSize(spec.shape));
  }
  return mask;
}

/** One uploaded batch of a {@link SampleSet}. */
export interface UploadedBatch {
  /** Inputs [1, B, ...sample shape]. */
  inputs: Tensor;
  /** Labels [B] (cross-entropy) or targets [B, outputs] (squared error). */
  targets: Tensor<"u32"> | Tensor;
  /** B, the number of samples. */
  samples: number;
}

/**
 * A fixed set of samples of some data (uploaded once, in batches of at most `maxBatch`) with
 * the loss that scores them; the loss of the set is the mean of its per-sample losses.
 */
export class SampleSet {
  private constructor(
    /** The uploaded batches, in sample order. */
    readonly batches: readonly UploadedBatch[],
    /** Which loss scores the samples. */
    readonly loss: EvalData["loss"],
    /** Number of samples. */
    readonly samples: number,
  ) {}

  /** Uploads samples `indices` of `data` (indices into its dataset, in that order). */
  static upload(
    model: Sequential,
    data: EvalData,
    indices: ArrayLike<number>,
    maxBatch = DEFAULT_MAX_BATCH,
  ): SampleSet {
    const n = data.dataset.labels.length;
    assertModelFits(model, data.dataset, data.loss === "squared-error" ? data.targets : undefined);
    if (indices.length === 0) throw new RangeError("a sample set needs at least one sample");
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    }
    for (let i = 0; i < indices.length; i++) {
      if (!(indices[i] >= 0 && indices[i] < n && Number.isInteger(indices[i]))) {
        throw new RangeError(`sample index ${indices[i]} is outside the ${n} samples`);
      }
    }
    const width = data.loss === "squared-error" ? data.targets.length / n : 0;
    if (data.loss === "squared-error" && !Number.isInteger(width)) {
      throw new RangeError(`${data.targets.length} targets do not split over ${n} samples`);
    }
    const gpu = model.gpu;
    const batches: UploadedBatch[] = [];
    for (let at = 0; at < indices.length; at += maxBatch) {
      const part = Array.from(
        { length: Math.min(maxBatch, indices.length - at) },
        (_, i) => indices[at + i],
      );
      const host = gather(data.dataset, part);
      const inputs = Tensor.from(gpu, host.images, [1, part.length, ...data.dataset.shape]);
      let targets: Tensor<"u32"> | Tensor;
      if (data.loss === "cross-entropy") targets = Tensor.from(gpu, host.labels);
      else {
        const t = new Float32Array(part.length * width);
        part.forEach((j, i) => t.set(data.targets.subarray(j * width, (j + 1) * width), i * width));
        targets = Tensor.from(gpu, t, [part.length, width]);
      }
      batches.push({ inputs, targets, samples: part.length });
    }
    return new SampleSet(batches, data.loss, indices.length);
  }

  /** Frees the uploaded batches. */
  dispose(): void {
    for (const b of this.batches) {
      b.inputs.dispose();
      b.targets.dispose();
    }
  }
}

/** Mean, standard error and per-probe values of a Hutchinson estimate. */
export interface TraceEstimate {
  /** Mean over probes. */
  mean: number;
  /** Standard error of the mean (sample standard deviation / sqrt(probes)). */
  se: number;
  /** The per-probe values (float64 copies of float32 GPU results). */
  values: Float64Array;
}

/** Summary statistics of per-probe values. */
export function traceEstimate(values: ArrayLike<number>): TraceEstimate {
  const v = Float64Array.from(values);
  const p = v.length;
  const mean = v.reduce((s, x) => s + x, 0) / p;
  const ss = v.reduce((s, x) => s + (x - mean) * (x - mean), 0);
  return { mean, se: p > 1 ? Math.sqrt(ss / (p - 1) / p) : NaN, values: v };
}

/** Options of {@link Curvature.create}. */
export interface CurvatureOptions {
  /** Relative finite-difference step h (default {@link DEFAULT_RELATIVE_STEP}). */
  relativeStep?: number;
}

/**
 * Gradients and Hessian-vector products of a model's loss at its current parameters w*. Create
 * it after training: it keeps a GPU copy of w* and writes it back into `model.params.values`
 * after every product (a copy, not an add and subtract, so w* is restored bit for bit).
 * `model.params.grads` is used as scratch. Call {@link Curvature.dispose} when done.
 */
export class Curvature {
  /** Number of trainable values N (without padding). */
  readonly count: number;
  /** Length of the padded flat vectors every direction must have. */
  readonly length: number;
  #center: Tensor;
  #mask: Tensor;
  #centerGradients = new Map<SampleSet, Tensor>();

  private constructor(
    /** The model; its parameters are w* outside this class's methods. */
    readonly model: Sequential,
    /** |w*| (Euclidean norm over the trainable values), read once at creation. */
    readonly centerNorm: number,
    /** The relative step h. */
    readonly relativeStep: number,
    center: Tensor,
    mask: Tensor,
  ) {
    this.count = model.params.count;
    this.length = model.params.values.size;
    this.#center = center;
    this.#mask = mask;
  }

  /** Checks the model (see {@link assertCurvatureModel}), copies w* and reads |w*| (one readback). */
  static async create(model: Sequential, options: CurvatureOptions = {}): Promise<Curvature> {
    assertCurvatureModel(model);
    await assertHasParameters(model);
    const h = options.relativeStep ?? DEFAULT_RELATIVE_STEP;
    if (!(h > 0 && h < 1)) throw new RangeError(`relativeStep must be in (0, 1), got ${h}`);
    const gpu = model.gpu;
    const values = model.params.values;
    const center = Tensor.empty(gpu, values.shape);
    gpu.copy(values, center);
    const mask = Tensor.from(gpu, trainableMask(model), values.shape);
    const sq = unary(center, "square");
    const total = sum(sq);
    sq.dispose();
    const [norm2] = await readTensors([total]);
    total.dispose();
    return new Curvature(model, Math.sqrt(norm2[0]), h, center, mask);
  }

  /** Uploads samples `indices` of `data` as a {@link SampleSet}. */
  samples(data: EvalData, indices: ArrayLike<number>, maxBatch?: number): SampleSet {
    return SampleSet.upload(this.model, data, indices, maxBatch);
  }

  /** The finite-difference multiplier ε for a direction of norm `directionNorm`. */
  step(directionNorm: number): number {
    if (!(directionNorm > 0 && Number.isFinite(directionNorm))) {
      throw new RangeError(`direction norm must be positive and finite, got ${directionNorm}`);
    }
    const rms = (x: number) => x / Math.sqrt(this.count);
    return this.relativeStep * (1 + rms(this.centerNorm)) / rms(directionNorm);
  }

  /**
   * Records the gradient of the set's mean loss at the model's current parameters into `out`
   * (padded layout; padding entries get the gradient buffer's padding, which stays 0). When
   * `losses` is given ([set size]), the per-sample losses land there too.
   */
  recordGradient(set: SampleSet, out: Tensor, losses?: Tensor): void {
    this.#checkVector(out, "gradient output");
    if (losses && losses.size !== set.samples) {
      throw new RangeError(`losses must hold ${set.samples} values, got [${losses.shape}]`);
    }
    const gpu = this.model.gpu;
    const ctx: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
    const grads = this.model.params.grads;
    let acc: Tensor | undefined;
    let at = 0;
    for (const batch of set.batches) {
      const prediction = this.model.forward(ctx, batch.inputs);
      let perSample: Tensor, dPrediction: Tensor;
      if (set.loss === "cross-entropy") {
        const labels = batch.targets as Tensor<"u32">;
        const ce = softmaxCrossEntropy(prediction, labels);
        ce.mean.dispose();
        perSample = ce.losses;
        dPrediction = softmaxCrossEntropyBackward(prediction, labels);
      } else {
        perSample = squaredError(prediction, batch.targets as Tensor);
        dPrediction = squaredErrorBackward(prediction, batch.targets as Tensor);
      }
      if (losses) gpu.copy(perSample, losses.view([batch.samples], at));
      this.model.backward(ctx, dPrediction);
      for (const t of [prediction, perSample, dPrediction]) t.dispose();
      at += batch.samples;
      if (set.batches.length === 1) {
        gpu.copy(grads, out);
        return;
      }
      // The mean over the set = sum over batches of (batch size / set size) x batch mean.
      const part = scale(grads, batch.samples / set.samples);
      if (acc) {
        const next = add(acc, part);
        acc.dispose();
        part.dispose();
        acc = next;
      } else acc = part;
    }
    gpu.copy(acc!, out);
    acc!.dispose();
  }

  /**
   * Records g(w* + εv) - g(w* - εv) into `out` (the un-normalised central difference, so that
   * differences over two sets can be combined before one scaling) and restores w*. With
   * `check` (a tensor of 2 values), also records the consistency of the difference:
   * check[0] = |g(w* + εv) + g(w* - εv) - 2 g(w*)|² and check[1] = |g(w* + εv) - g(w* - εv)|².
   * sqrt(check[0] / check[1]) = |F - B| / |F + B| for the forward and backward differences F
   * and B: about ε|∇³L[v, v]| / (2|Hv|) plus rounding for a smooth loss, O(1) when the step
   * crossed a ReLU or max-pool kink. g(w*) of each set is computed once and cached.
   */
  recordGradientDifference(
    set: SampleSet,
    v: Tensor,
    epsilon: number,
    out: Tensor,
    check?: Tensor,
  ): void {
    this.#checkVector(v, "direction");
    this.#checkVector(out, "difference output");
    if (check && check.size !== 2) throw new RangeError(`check must hold 2 values`);
    const gpu = this.model.gpu;
    const values = this.model.params.values;
    const center = check ? this.#centerGradient(set) : undefined;
    const plus = Tensor.empty(gpu, values.shape), minus = Tensor.empty(gpu, values.shape);
    for (const [sign, g] of [[1, plus], [-1, minus]] as const) {
      const move = scale(v, sign * epsilon);
      const w = add(this.#center, move);
      gpu.copy(w, values);
      move.dispose();
      w.dispose();
      this.recordGradient(set, g);
    }
    gpu.copy(this.#center, values);
    const d = sub(plus, minus);
    gpu.copy(d, out);
    if (check && center) {
      const both = add(plus, minus), twice = scale(center, 2);
      const second = sub(both, twice);
      for (const [i, x] of [[0, second], [1, d]] as const) {
        const sq = unary(x, "square");
        const s = sum(sq);
        gpu.copy(s, check.view([1], i));
        sq.dispose();
        s.dispose();
      }
      for (const t of [both, twice, second]) t.dispose();
    }
    for (const t of [plus, minus, d]) t.dispose();
  }

  /**
   * Records Hv ≈ (g(w* + εv) - g(w* - εv)) / (2ε) for the set's mean loss into `out`, with ε =
   * `stepScale` x `step(directionNorm)`; restores w*. `check` as in
   * {@link Curvature.recordGradientDifference}. Returns ε.
   */
  recordHvp(
    set: SampleSet,
    v: Tensor,
    directionNorm: number,
    out: Tensor,
    { check, stepScale = 1 }: { check?: Tensor; stepScale?: number } = {},
  ): number {
    const epsilon = stepScale * this.step(directionNorm);
    const d = Tensor.empty(this.model.gpu, v.shape);
    this.recordGradientDifference(set, v, epsilon, d, check);
    const hv = scale(d, 1 / (2 * epsilon));
    this.model.gpu.copy(hv, out);
    d.dispose();
    hv.dispose();
    return epsilon;
  }

  /** Hv for the set's mean loss as a new tensor; reads |v| back when `directionNorm` is absent. */
  async hvp(set: SampleSet, v: Tensor, directionNorm?: number): Promise<Tensor> {
    const norm = directionNorm ?? await this.norm(v);
    const out = Tensor.empty(this.model.gpu, [this.length]);
    this.recordHvp(set, v, norm, out);
    await this.model.gpu.flush();
    return out;
  }

  /** |v| over the trainable entries (one readback). */
  async norm(v: Tensor): Promise<number> {
    this.#checkVector(v, "vector");
    const masked = mul(v, this.#mask);
    const sq = unary(masked, "square");
    const total = sum(sq);
    const [s] = await readTensors([total]);
    for (const t of [masked, sq, total]) t.dispose();
    return Math.sqrt(s[0]);
  }

  /**
   * `count` Rademacher vectors (±1 on trainable entries, 0 in the padding) as rows of a new
   * tensor [count, length]: uniform (0, 1] draws from the counter RNG keyed by (seed,
   * {@link PROBE_STREAM}, domain `fill`, flat index), mapped to 2u - 1 + 2^-24 (an odd multiple
   * of 2^-24, never 0, exact in float32) and then to its sign. Each row has norm sqrt(count).
   */
  rademacher(count: number, seed: number): Tensor {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`probe count must be a positive integer, got ${count}`);
    }
    const gpu = this.model.gpu;
    const u = Tensor.empty(gpu, [count, this.length]);
    fillUniform(u, { seed, stream: PROBE_STREAM, domain: RNG_DOMAIN.fill });
    const x = scale(u, 2, -1 + U32);
    const ax = unary(x, "abs");
    const s = div(x, ax);
    const out = Tensor.empty(gpu, [count, this.length]);
    for (let p = 0; p < count; p++) {
      const row = mul(s.view([this.length], p * this.length), this.#mask);
      gpu.copy(row, out.view([this.length], p * this.length));
      row.dispose();
    }
    for (const t of [u, x, ax, s]) t.dispose();
    return out;
  }

  /** Writes w* back into the model's parameters (recorded). */
  restore(): void {
    this.model.gpu.copy(this.#center, this.model.params.values);
  }

  /** Restores w* and frees the copy of w*, the mask and the cached gradients at w*. */
  dispose(): void {
    this.restore();
    this.#center.dispose();
    this.#mask.dispose();
    for (const g of this.#centerGradients.values()) g.dispose();
    this.#centerGradients.clear();
  }

  /** g(w*) of a set, recorded on first use and cached (w* is in place between products). */
  #centerGradient(set: SampleSet): Tensor {
    let g = this.#centerGradients.get(set);
    if (!g) {
      g = Tensor.empty(this.model.gpu, [this.length]);
      this.recordGradient(set, g);
      this.#centerGradients.set(set, g);
    }
    return g;
  }

  #checkVector(v: Tensor, what: string): void {
    if (v.size !== this.length) {
      throw new RangeError(
        `${what} must have the padded parameter length ${this.length}, got [${v.shape}]`,
      );
    }
  }
}

/**
 * A symmetric operator M for {@link hutchinson}: records out = Mz with its finite-difference
 * steps multiplied by `stepScale`, and may return a tensor of consistency pairs
 * [|second difference|², |first difference|², ...] (see
 * {@link Curvature.recordGradientDifference}) that the caller disposes.
 */
export type ProbeOperator = (z: Tensor, out: Tensor, stepScale: number) => Tensor | undefined;

/** Options of {@link hutchinson}. */
export interface HutchinsonOptions {
  /** Number of Rademacher probes (at least 2). */
  probes: number;
  /** Seed of the probes. */
  seed: number;
  /**
   * A probe whose finite differences have |F - B| / |F + B| above this (a kink was crossed)
   * is redone with a smaller step (default 1e-2; without a kink the ratio is 1.4 to 13 times
   * the relative error of the product, with one it is O(1)).
   */
  consistency?: number;
  /** How many times an inconsistent probe is redone, each time with the step / `shrink`
   * (default 2: from h = 2^-12 down to 2^-18, where rounding alone stays below 1e-2). */
  retries?: number;
  /** Step reduction per retry (default 8). */
  shrink?: number;
}

/** Hutchinson estimates with the per-probe diagnostics. */
export interface HutchinsonResult {
  /** Tr(M) = E[zᵀMz]. */
  trace: TraceEstimate;
  /** Tr(M²) = E[|Mz|²]. */
  traceOfSquare: TraceEstimate;
  /** Step scale each probe ended with (1, 1/shrink, ...). */
  stepScales: Float64Array;
  /** Final |F - B| / |F + B| of each probe (worst over its differences; NaN if unchecked). */
  inconsistency: Float64Array;
  /** Probes redone at least once. */
  redone: number;
  /** Probes still above the consistency threshold after all retries. */
  unresolved: number;
}

/**
 * Hutchinson estimates for a symmetric operator M: Tr(M) = E[zᵀMz] and Tr(M²) = E[|Mz|²] over
 * `probes` Rademacher probes z (seeded), each with its standard error over probes. All
 * products are recorded first and their scalars come back in one readback; probes whose finite
 * differences are inconsistent (a ReLU kink inside the step) are redone with smaller steps,
 * one readback per round.
 */
export async function hutchinson(
  curvature: Curvature,
  apply: ProbeOperator,
  options: HutchinsonOptions,
): Promise<HutchinsonResult> {
  const { probes, seed } = options;
  const tau = options.consistency ?? 1e-2;
  const retries = options.retries ?? 2;
  const shrink = options.shrink ?? 8;
  if (!Number.isInteger(probes) || probes < 2) {
    throw new RangeError(`Hutchinson needs at least 2 probes for a standard error, got ${probes}`);
  }
  const gpu = curvature.model.gpu;
  const n = curvature.length;
  const z = curvature.rademacher(probes, seed);
  const mz = Tensor.empty(gpu, [probes, n]);
  const quad = new Float64Array(probes), norms = new Float64Array(probes);
  const inconsistency = new Float64Array(probes).fill(NaN);
  const checked = new Array<boolean>(probes).fill(false);
  const stepScales = new Float64Array(probes).fill(1);
  let todo = Array.from({ length: probes }, (_, p) => p);
  let redone = 0;
  try {
    for (let round = 0; round <= retries && todo.length > 0; round++) {
      const scalars: Tensor[] = [];
      for (const [i, p] of todo.entries()) {
        const zp = z.view([n], p * n), out = mz.view([n], p * n);
        const check = apply(zp, out, stepScales[p]);
        const prod = mul(zp, out), sq = unary(out, "square");
        scalars.push(sum(prod), sum(sq), check ?? Tensor.zeros(gpu, [0]));
        prod.dispose();
        sq.dispose();
        // Submit every few probes so the recording does not grow without bound.
        if (i % 8 === 7) await gpu.flush();
      }
      const host = await readTensors(scalars);
      for (const t of scalars) t.dispose();
      const again: number[] = [];
      todo.forEach((p, i) => {
        quad[p] = host[3 * i][0];
        norms[p] = host[3 * i + 1][0];
        const check = host[3 * i + 2];
        if (check.length === 0) return;
        checked[p] = true;
        let worst = 0;
        for (let j = 0; j + 1 < check.length; j += 2) {
          // 0 / 0: both differences vanish (no curvature along z), which is consistent.
          const r = check[j + 1] > 0
            ? Math.sqrt(check[j] / check[j + 1])
            : check[j] > 0
            ? Infinity
            : 0;
          worst = Math.max(worst, r);
        }
        inconsistency[p] = worst;
        if (!(worst <= tau) && round < retries) again.push(p);
      });
      if (round === 0) redone = again.length;
      for (const p of again) stepScales[p] /= shrink;
      todo = again;
    }
    const unresolved = checked.filter((c, p) => c && !(inconsistency[p] <= tau)).length;
    return {
      trace: traceEstimate(quad),
      traceOfSquare: traceEstimate(norms),
      stepScales,
      inconsistency,
      redone,
      unresolved,
    };
  } finally {
    z.dispose();
    mz.dispose();
  }
}

/** Sample sets for the prefix difference at k: the first k samples and sample k + 1. */
export interface PrefixSets {
  /** Samples 1..k (dataset indices 0..k-1). */
  prefix: SampleSet;
  /** Sample k + 1 (dataset index k). */
  next: SampleSet;
  /** k. */
  k: number;
}

/** Uploads the sets of {@link PrefixSets} for k (the data must hold at least k + 1 samples). */
export function prefixSets(
  curvature: Curvature,
  data: EvalData,
  k: number,
  maxBatch?: number,
): PrefixSets {
  const n = data.dataset.labels.length;
  if (!Number.isInteger(k) || k < 1 || k + 1 > n) {
    throw new RangeError(`k must be an integer in [1, ${n - 1}] for ${n} samples, got ${k}`);
  }
  const prefix = curvature.samples(data, Array.from({ length: k }, (_, i) => i), maxBatch);
  const next = curvature.samples(data, [k], maxBatch);
  return { prefix, next, k };
}

/**
 * Records A_k z = (H^(k+1) - H^(k)) z = (H_{l_{k+1}} z - H^(k) z) / (k + 1) into `out`: two
 * central differences (one on sample k + 1, one on the first k samples) with the same ε =
 * `stepScale` x `step(directionNorm)`, combined before one scaling. With `check` (4 values),
 * records the consistency pairs of both differences (next, then prefix). Returns ε.
 */
export function recordPrefixHessianDifference(
  curvature: Curvature,
  sets: PrefixSets,
  z: Tensor,
  directionNorm: number,
  out: Tensor,
  { check, stepScale = 1 }: { check?: Tensor; stepScale?: number } = {},
): number {
  const gpu = curvature.model.gpu;
  const epsilon = stepScale * curvature.step(directionNorm);
  const dNext = Tensor.empty(gpu, z.shape), dPrefix = Tensor.empty(gpu, z.shape);
  curvature.recordGradientDifference(sets.next, z, epsilon, dNext, check?.view([2], 0));
  curvature.recordGradientDifference(sets.prefix, z, epsilon, dPrefix, check?.view([2], 2));
  const d = sub(dNext, dPrefix);
  const az = scale(d, 1 / (2 * epsilon * (sets.k + 1)));
  gpu.copy(az, out);
  for (const t of [dNext, dPrefix, d, az]) t.dispose();
  return epsilon;
}

/**
 * Hutchinson Tr(A_k) and Tr(A_k²) (Rademacher probes, |z| = sqrt(N)), with kink-consistency
 * checks of every finite difference and retries (see {@link hutchinson}).
 */
export function prefixHessianTraces(
  curvature: Curvature,
  sets: PrefixSets,
  options: HutchinsonOptions,
): Promise<HutchinsonResult> {
  const norm = Math.sqrt(curvature.count);
  return hutchinson(curvature, (z, out, stepScale) => {
    const check = Tensor.empty(curvature.model.gpu, [4]);
    recordPrefixHessianDifference(curvature, sets, z, norm, out, { check, stepScale });
    return check;
  }, options);
}

/** a, c and the losses at w* for the prefix difference at k. */
export interface PrefixGradientTerms {
  /** a = L_{k+1}(w*) - L_k(w*) = (l_{k+1} - L_k) / (k + 1), in float64 from float32 losses. */
  a: number;
  /** |c|², c = ∇L_{k+1}(w*) - ∇L_k(w*) = (∇l_{k+1} - ∇L_k) / (k + 1). */
  cNormSquared: number;
  /** L_k(w*). */
  prefixLoss: number;
  /** l_{k+1}(w*). */
  nextLoss: number;
}

/** Computes a and |c|² at w* (one readback). */
export async function prefixGradientTerms(
  curvature: Curvature,
  sets: PrefixSets,
): Promise<PrefixGradientTerms> {
  const gpu = curvature.model.gpu;
  const n = curvature.length;
  const gNext = Tensor.empty(gpu, [n]), gPrefix = Tensor.empty(gpu, [n]);
  const lNext = Tensor.empty(gpu, [1]), lPrefix = Tensor.empty(gpu, [sets.k]);
  curvature.recordGradient(sets.next, gNext, lNext);
  curvature.recordGradient(sets.prefix, gPrefix, lPrefix);
  const d = sub(gNext, gPrefix);
  const c = scale(d, 1 / (sets.k + 1));
  const sq = unary(c, "square");
  const c2 = sum(sq);
  const owned = [gNext, gPrefix, lNext, lPrefix, d, c, sq, c2];
  try {
    const [next, prefix, cc] = await readTensors([lNext, lPrefix, c2]);
    const prefixLoss = prefix.reduce((s, x) => s + x, 0) / sets.k;
    return {
      a: (next[0] - prefixLoss) / (sets.k + 1),
      cNormSquared: cc[0],
      prefixLoss,
      nextLoss: next[0],
    };
  } finally {
    for (const t of owned) t.dispose();
  }
}
