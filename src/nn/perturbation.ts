/**
 * Evaluating many parameter points in one pass without writing perturbed weights: layers with
 * parameters are assembled with one of three `perturbed(g, index, base)` implementations and
 * bind its inputs at @binding(12..14).
 * @module
 */
import type { Gpu, GpuBufferView } from "../gpu/gpu.ts";
import { type Uniforms, uniformStruct } from "../gpu/uniforms.ts";
import { type ShaderSource, wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { philoxShader } from "../ops/random.ts";
import { seedKey } from "../rng/philox.ts";
import { Tensor } from "../tensor.ts";
import { invocationShader } from "../gpu/invocation.ts";
import biasSource from "../../shaders/bias_table.wgsl" with { type: "text" };
import noneSource from "../../shaders/perturb_none.wgsl" with { type: "text" };
import fullSource from "../../shaders/perturb_full.wgsl" with { type: "text" };
import subspaceSource from "../../shaders/perturb_subspace.wgsl" with { type: "text" };

/**
 * G parameter points around w*.
 * - full: w_t = w* + sigma * eps_t, eps_t ~ N(0, I) over every trainable parameter, t =
 *   firstPoint + g; eps regenerated from (seed, t, parameter index). Antithetic: points 2p and
 *   2p + 1 are w* + sigma * eps_p and w* - sigma * eps_p, eps_p keyed by the pair p.
 * - subspace: w_g = w* + sum_j coefficients[g, j] * directions[:, j] (random directions for
 *   Δk in `dim` dimensions, or two directions and grid coefficients for a landscape).
 */
export type Perturbation =
  | {
    mode: "full";
    points: number;
    seed: number;
    sigma: number;
    firstPoint?: number;
    antithetic?: boolean;
  }
  | {
    mode: "subspace";
    points: number;
    /** [N, dim4 * 4] with dim padded to a multiple of 4 by zero columns. */
    directions: Tensor;
    /** [points, dim4 * 4], zero-padded likewise. */
    coefficients: Tensor;
    /** Directions in use, the first `dim` columns (default: every column, padding included). */
    dim?: number;
  };

const none = wgsl("shaders/perturb_none.wgsl", noneSource);
const FULL = uniformStruct("PerturbFull", {
  seedLo: "u32",
  seedHi: "u32",
  firstPoint: "u32",
  sigma: "f32",
  antithetic: "u32",
});
const SUBSPACE = uniformStruct("PerturbSubspace", { dim4: "u32" });
const BIAS_TABLE = uniformStruct("BiasTable", {
  points: "u32",
  outputs: "u32",
  bAt: "u32",
  bIndex: "u32",
});
const full = wgsl("shaders/perturb_full.wgsl", fullSource, philoxShader);
const subspace = wgsl("shaders/perturb_subspace.wgsl", subspaceSource);

/** The `perturbed()` implementation a layer shader is assembled with. */
export function perturbationShader(p: Perturbation | undefined): ShaderSource {
  return !p ? none : p.mode === "full" ? full : subspace;
}

/** Number of parameter points: G of the perturbation, or 1. */
export function pointCount(p: Perturbation | undefined): number {
  return p ? p.points : 1;
}

/** Directions a subspace perturbation uses: `dim`, or the directions' padded width. */
export function subspaceDim(p: Extract<Perturbation, { mode: "subspace" }>): number {
  const width = p.directions.shape[1];
  const dim = p.dim ?? width;
  if (!(Number.isInteger(dim) && dim >= 1 && dim <= width)) {
    throw new RangeError(`subspace dim must be an integer in [1, ${width}], got ${p.dim}`);
  }
  return dim;
}

/**
 * Bindings 12-14 for a perturbed layer kernel, to append to a dispatch whose own bindings
 * end before 12: returns the array padded with nulls.
 */
export function withPerturbation(
  bindings: readonly (GpuBufferView | Uniforms | null)[],
  p: Perturbation | undefined,
): (GpuBufferView | Uniforms | null)[] {
  if (bindings.length > 11) throw new RangeError("layer bindings must stay below 12");
  const out: (GpuBufferView | Uniforms | null)[] = [...bindings];
  if (!p) return out;
  while (out.length < 11) out.push(null);
  if (p.mode === "full") {
    if (!(p.sigma >= 0) || !Number.isFinite(p.sigma)) {
      throw new RangeError(`perturbation sigma must be finite and >= 0, got ${p.sigma}`);
    }
    const [lo, hi] = seedKey(p.seed);
    out.push(FULL.write({
      seedLo: lo,
      seedHi: hi,
      firstPoint: p.firstPoint ?? 0,
      sigma: p.sigma,
      antithetic: p.antithetic ? 1 : 0,
    }));
  } else {
    const width = p.directions.shape[1];
    if (p.directions.shape.length !== 2 || width % 4 !== 0) {
      throw new RangeError(
        `subspace directions must be [N, dim padded to 4], got [${p.directions.shape}]`,
      );
    }
    if (p.coefficients.shape.join() !== `${p.points},${width}`) {
      throw new RangeError(
        `subspace coefficients must be [${p.points}, ${width}], got [${p.coefficients.shape}]`,
      );
    }
    subspaceDim(p);
    out.push(SUBSPACE.write({ dim4: width / 4 }), p.directions, p.coefficients);
  }
  return out;
}

/**
 * The biases of the perturbation's G points, [G, outputs], for layers that add the bias after
 * their product: b at element `bAt` of `source`, its flat index `bIndex`. The caller owns it.
 */
export function perturbedBiases(
  gpu: Gpu,
  p: Perturbation,
  source: GpuBufferView,
  bAt: number,
  bIndex: number,
  outputs: number,
): Tensor {
  const table = Tensor.empty(gpu, [p.points, outputs]);
  gpu.dispatch({
    kernel: {
      shader: wgsl("shaders/bias_table.wgsl", biasSource, invocationShader, perturbationShader(p)),
      entryPoint: "biasTable",
    },
    bindings: withPerturbation([null, source, table], p),
    params: BIAS_TABLE.write({ points: p.points, outputs, bAt, bIndex }),
    workgroups: ceilDiv(p.points * outputs, 64),
  });
  return table;
}
