/**
 * Fully connected layer y = x W^T + b (PyTorch's nn.Linear), on the GEMM core.
 * @module
 */
import type { GpuBufferView } from "../gpu/gpu.ts";
import { Tensor } from "../tensor.ts";
import { GEMM_SHAPE, recordGemm } from "./gemm.ts";
import type { RegisterStore } from "./gemm_register.ts";
import {
  activationDims,
  type ForwardContext,
  type Layer,
  type ParamBinding,
  type ParamSpec,
  sampleSize,
} from "./layer.ts";
import { span } from "./param_store.ts";
import { type Epilogue, epilogueBinding } from "./epilogue.ts";
import {
  type Perturbation,
  perturbedBiases,
  pointCount,
  subspaceDim,
  withPerturbation,
} from "./perturbation.ts";
import { layerShader } from "./layer_shader.ts";
import source from "../../shaders/dense.wgsl" with { type: "text" };

/** dense.wgsl's Params: the product's shape, then the layer's geometry and parameters. */
const UNIFORMS = GEMM_SHAPE.extend("Params", {
  features: "u32",
  outputs: "u32",
  batch: "u32",
  xGroupStride: "u32", // elements between the groups of x: 0 when every point reads one input
  wAt: "u32",
  bAt: "u32",
  wIndex: "u32", // position of W[0] in the model's flat trainable vector
  tableAt: "u32",
  tableStride: "u32",
  centerAt: "u32",
  pairOdd: "u32",
  points: "u32",
});

/** The fields only the antithetic-pair products use, 0 elsewhere. */
const NO_PAIRS = { centerAt: 0, pairOdd: 0, points: 0 };

/**
 * Most subspace directions for which a layer on a shared input computes P and the directions'
 * products once (dim + 1 products) instead of one product per point. The rule reads dim only,
 * never a chunk's point count, so a point's value does not depend on how points are chunked or
 * sharded; loss-matrix chunks of the paper's models hold 32 or more points, so up to 16
 * directions it pays.
 */
export const SUBSPACE_BASIS_MAX_DIM = 16;

type StepStore = readonly (GpuBufferView | null)[];

/** The dense shader assembled with a GEMM core, a perturbation variant and an epilogue. */
const denseShader = layerShader("shaders/dense.wgsl", source);

/**
 * How the register core stores a forward product: four columns per store, with their biases
 * and epilogue coefficients loaded once, where rows of y are whole vec4s; else value by value.
 */
function storeOf(outputs: number): RegisterStore {
  return outputs % 4 === 0 ? "columns4" : "scalar";
}

/** y = x W^T + b with W [out, in]; the input's sample shape is flattened. */
export class Dense implements Layer {
  /** Layer kind. */
  readonly kind = "dense";
  #weight?: ParamBinding;
  #bias?: ParamBinding;
  #input?: Tensor;

  /** A layer from `inFeatures` to `outFeatures`. */
  constructor(readonly inFeatures: number, readonly outFeatures: number) {
    if (!(inFeatures > 0 && outFeatures > 0)) {
      throw new RangeError(`dense layer needs positive sizes, got ${inFeatures} -> ${outFeatures}`);
    }
  }

  /** [outFeatures]; the input must hold inFeatures values per sample. */
  outputShape(input: readonly number[]): number[] {
    if (sampleSize(input) !== this.inFeatures) {
      throw new RangeError(`dense layer expects ${this.inFeatures} inputs, got [${input}]`);
    }
    return [this.outFeatures];
  }

  /** weight [out, in] and bias [out], uniform(±1/sqrt(in)) as in PyTorch. */
  paramSpecs(): ParamSpec[] {
    const bound = 1 / Math.sqrt(this.inFeatures);
    return [
      {
        name: "weight",
        shape: [this.outFeatures, this.inFeatures],
        kind: "weight",
        init: { kind: "uniform", bound },
      },
      { name: "bias", shape: [this.outFeatures], kind: "bias", init: { kind: "uniform", bound } },
    ];
  }

  /** Attaches weight and bias storage. */
  bind([weight, bias]: ParamBinding[]): void {
    this.#weight = weight;
    this.#bias = bias;
  }

  #params(): { weight: ParamBinding; bias: ParamBinding } {
    if (!this.#weight || !this.#bias) throw new Error("dense layer used before bind()");
    return { weight: this.#weight, bias: this.#bias };
  }

  /** y [G, B, out] for x [1 or G, B, ...]. */
  forward(ctx: ForwardContext, x: Tensor): Tensor {
    return this.#forward(ctx, x, undefined);
  }

  /** The evaluation forward with `epilogue` applied to every output (src/nn/epilogue.ts). */
  forwardWith(ctx: ForwardContext, x: Tensor, epilogue: Epilogue): Tensor {
    if (ctx.training) throw new Error("dense: epilogues are for evaluation only");
    return this.#forward(ctx, x, epilogue);
  }

  #forward(ctx: ForwardContext, x: Tensor, epilogue: Epilogue | undefined): Tensor {
    const { weight, bias } = this.#params();
    const { groups, batch, features } = activationDims(x);
    if (features !== this.inFeatures) this.outputShape(x.shape.slice(2));
    const points = pointCount(ctx.perturbation);
    if (groups !== 1 && groups !== points) {
      throw new RangeError(`input has ${groups} groups for ${points} parameter points`);
    }
    if (ctx.training && ctx.perturbation) throw new Error("perturbed evaluation runs in eval mode");
    const p = ctx.perturbation;
    if (ctx.sharedInput && groups === 1) {
      if (p?.mode === "full" && p.antithetic) return this.#forwardPairs(ctx, x, p, epilogue);
      if (p?.mode === "subspace" && subspaceDim(p) <= SUBSPACE_BASIS_MAX_DIM) {
        return this.#forwardBasis(ctx, x, p, epilogue);
      }
    }
    const y = Tensor.empty(ctx.gpu, [points, batch, this.outFeatures]);
    const params = span(weight.value, bias.value);
    // b of each point: the bias itself, or G perturbed copies.
    const table = ctx.perturbation
      ? perturbedBiases(
        ctx.gpu,
        ctx.perturbation,
        params.view,
        params.at(bias.value),
        bias.offset,
        this.outFeatures,
      )
      : null;
    recordGemm(ctx.gpu, {
      shader: denseShader(ctx.perturbation, epilogue),
      constants: { MODE: 0 },
      m: batch,
      n: this.outFeatures,
      k: this.inFeatures,
      slices: points,
      sharedA: groups === 1,
      // x read in place and W packed along IN (four weights per noise block): dense.wgsl
      register: this.inFeatures % 4 === 0
        ? {
          form: "dot",
          directA: x,
          packB: { rows: this.outFeatures, width: this.inFeatures / 4 },
          store: storeOf(this.outFeatures),
        }
        : undefined,
      struct: UNIFORMS,
      fields: {
        features: this.inFeatures,
        outputs: this.outFeatures,
        batch,
        xGroupStride: groups === 1 ? 0 : batch * this.inFeatures,
        wAt: 0,
        bAt: params.at(bias.value),
        wIndex: weight.offset,
        tableAt: table ? 0 : params.at(bias.value),
        tableStride: table ? this.outFeatures : 0,
        ...NO_PAIRS,
      },
      loadBindings: withPerturbation([x, params.view], ctx.perturbation),
      storeBindings: [null, null, y, table ?? params.view, epilogueBinding(epilogue, x)],
    });
    table?.dispose();
    if (ctx.training) this.#input = x;
    return y;
  }

  /**
   * y [G, B, out] at antithetic points w* ± sigma eps_p on an input x [1, B, in] they share:
   * P = x W*^T once, Q_p = x (sigma eps_p)^T once per pair, each point P ± Q_p + its bias. The
   * pairs a chunk of points straddles at either end are computed whole and half stored, so a
   * point's value does not depend on how points are chunked.
   */
  #forwardPairs(
    ctx: ForwardContext,
    x: Tensor,
    p: Extract<Perturbation, { mode: "full" }>,
    epilogue: Epilogue | undefined,
  ): Tensor {
    const { weight, bias } = this.#params();
    const { gpu } = ctx;
    const { batch } = activationDims(x);
    const out = this.outFeatures, first = p.firstPoint ?? 0;
    const params = span(weight.value, bias.value);
    // P, then the points' biases, in one buffer: the pair product's store reads both.
    const biases = perturbedBiases(gpu, p, params.view, params.at(bias.value), bias.offset, out);
    const table = Tensor.empty(gpu, [batch * out + p.points * out]);
    gpu.copy(biases, table.view([p.points * out], batch * out));
    biases.dispose();
    const center = table.view([batch, out], 0);
    const firstPair = Math.floor(first / 2);
    const pairs = Math.floor((first + p.points - 1) / 2) - firstPair + 1;
    // Pair z of the dispatch draws eps as plain point firstPair + z does: sigma eps_p alone.
    const noise: Perturbation = { ...p, points: pairs, firstPoint: firstPair, antithetic: false };
    const y = Tensor.empty(gpu, [p.points, batch, out]);
    const pairFields = {
      tableAt: batch * out,
      tableStride: out,
      pairOdd: first % 2,
      points: p.points,
    };
    const centerStore = [null, null, center, params.view];
    this.#stepProducts(ctx, x, 3, undefined, undefined, pairFields, centerStore);
    // The points' values pass through the epilogue, P does not.
    const store = [null, null, y, table, epilogueBinding(epilogue, x)];
    this.#stepProducts(ctx, x, 4, noise, epilogue, pairFields, store);
    table.dispose();
    return y;
  }

  /**
   * y [G, B, out] at subspace points w* + sum_j a_gj d_j on an input x [1, B, in] they share:
   * Q = [x W*^T, x d_1^T, ..., x d_dim^T] once, then y_g = Q_0 + sum_j a_gj Q_j + b_g, summed in
   * the order of j, so a point's value depends on its coefficients only.
   */
  #forwardBasis(
    ctx: ForwardContext,
    x: Tensor,
    p: Extract<Perturbation, { mode: "subspace" }>,
    epilogue: Epilogue | undefined,
  ): Tensor {
    const { weight, bias } = this.#params();
    const { gpu } = ctx;
    const { batch } = activationDims(x);
    const out = this.outFeatures, dim = subspaceDim(p), width = p.directions.shape[1];
    // Basis point 0 is w* (coefficients 0), point j is direction j alone (coefficient e_j).
    const unit = new Float32Array((dim + 1) * width);
    for (let j = 0; j < dim; j++) unit[(j + 1) * width + j] = 1;
    const coefficients = Tensor.from(gpu, unit, [dim + 1, width]);
    const basis: Perturbation = { ...p, points: dim + 1, coefficients };
    const products = Tensor.empty(gpu, [dim + 1, batch, out]);
    const params = span(weight.value, bias.value);
    this.#stepProducts(ctx, x, 5, basis, undefined, {}, [null, null, products, params.view]);
    const biases = perturbedBiases(gpu, p, params.view, params.at(bias.value), bias.offset, out);
    const y = Tensor.empty(gpu, [p.points, batch, out]);
    recordGemm(gpu, {
      shader: denseShader(undefined, epilogue),
      constants: { MODE: 6 },
      m: p.points,
      n: batch * out,
      k: dim + 1,
      slices: 1,
      struct: UNIFORMS,
      fields: {
        features: width,
        outputs: out,
        batch,
        xGroupStride: 0,
        wAt: 0,
        bAt: 0,
        wIndex: 0,
        tableAt: 0,
        tableStride: out,
        ...NO_PAIRS,
      },
      loadBindings: [p.coefficients, products],
      storeBindings: [null, null, y, biases, epilogueBinding(epilogue, x)],
    });
    for (const t of [coefficients, products, biases]) t.dispose();
    return y;
  }

  /**
   * The products x S_z^T on the shared input x [1, B, in] (MODE 3, 4 or 5 of dense.wgsl), one
   * per slice z of `perturbation` (one with none): S_z is W* or the step the point adds to it.
   */
  #stepProducts(
    ctx: ForwardContext,
    x: Tensor,
    mode: 3 | 4 | 5,
    perturbation: Perturbation | undefined,
    epilogue: Epilogue | undefined,
    fields: Partial<Record<"tableAt" | "tableStride" | "pairOdd" | "points", number>>,
    storeBindings: StepStore,
  ): void {
    const { weight, bias } = this.#params();
    const out = this.outFeatures, { batch } = activationDims(x);
    const params = span(weight.value, bias.value);
    recordGemm(ctx.gpu, {
      shader: denseShader(perturbation, epilogue),
      constants: { MODE: mode },
      m: batch,
      n: out,
      k: this.inFeatures,
      slices: pointCount(perturbation),
      sharedA: true,
      register: this.inFeatures % 4 === 0
        ? {
          form: "dot",
          directA: x,
          packB: { rows: out, width: this.inFeatures / 4 },
          store: storeOf(out),
        }
        : undefined,
      struct: UNIFORMS,
      fields: {
        features: this.inFeatures,
        outputs: out,
        batch,
        xGroupStride: 0,
        wAt: 0,
        bAt: params.at(bias.value),
        wIndex: weight.offset,
        ...NO_PAIRS,
        tableAt: 0,
        tableStride: 0,
        ...fields,
      },
      loadBindings: withPerturbation([x, params.view], perturbation),
      storeBindings,
    });
  }

  /** dx for dy [1, B, out]; writes the weight and bias gradients. */
  backward(ctx: ForwardContext, dy: Tensor): Tensor {
    const { x, fields } = this.#backwardFields();
    const { weight, bias } = this.#params();
    const dx = Tensor.empty(ctx.gpu, x.shape);
    const params = span(weight.value, bias.value);
    recordGemm(ctx.gpu, {
      shader: denseShader(undefined),
      constants: { MODE: 1 },
      m: x.shape[1],
      n: this.inFeatures,
      k: this.outFeatures,
      slices: 1,
      struct: UNIFORMS,
      fields: fields(params.at(bias.value)),
      loadBindings: [dy, params.view],
      storeBindings: [null, null, dx, params.view], // binding 4: no bias here, any buffer
    });
    this.backwardParams(ctx, dy);
    return dx;
  }

  /** Writes the weight and bias gradients for dy [1, B, out] (no dx). */
  backwardParams(ctx: ForwardContext, dy: Tensor): void {
    const { x, fields } = this.#backwardFields();
    const { weight, bias } = this.#params();
    const grads = span(weight.grad!, bias.grad!);
    recordGemm(ctx.gpu, {
      shader: denseShader(undefined),
      constants: { MODE: 2 },
      m: this.outFeatures,
      n: this.inFeatures + 1,
      k: x.shape[1],
      slices: 1,
      struct: UNIFORMS,
      fields: fields(grads.at(bias.grad!)),
      loadBindings: [dy, x],
      storeBindings: [null, null, grads.view, x], // binding 4: no bias here, any buffer
    });
  }

  /** The saved input and the layer's fields of the backward products (bias at bAt). */
  #backwardFields(): { x: Tensor; fields: (bAt: number) => Record<string, number> } {
    const { weight, bias } = this.#params();
    const x = this.#input;
    if (!x) throw new Error("dense backward without a training forward");
    if (!weight.grad || !bias.grad) throw new Error("dense parameters have no gradient storage");
    const batch = x.shape[1];
    return {
      x,
      fields: (bAt) => ({
        features: this.inFeatures,
        outputs: this.outFeatures,
        batch,
        xGroupStride: 0,
        wAt: 0,
        bAt,
        wIndex: weight.offset,
        tableAt: 0,
        tableStride: 0,
        ...NO_PAIRS,
      }),
    };
  }

  /** Forgets the saved input. */
  release(): void {
    this.#input = undefined;
  }
}
