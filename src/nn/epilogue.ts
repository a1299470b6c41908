/**
 * Epilogues: in evaluation, the ReLU and batch-norm layers that follow a convolution or a
 * dense layer are applied as the product stores each value (`shaders/epilogue.wgsl`), which
 * saves their passes over the activations (on a CPU adapter, a fifth of a CNN's evaluation).
 * Training keeps every layer separate, since backward needs their inputs.
 * @module
 */
import { type ShaderSource, wgsl } from "../gpu/shader.ts";
import type { Tensor } from "../tensor.ts";
import type { BatchNorm } from "./batchnorm.ts";
import type { ForwardContext, Layer } from "./layer.ts";
import source from "../../shaders/epilogue.wgsl" with { type: "text" };
import noneSource from "../../shaders/epilogue_none.wgsl" with { type: "text" };

/** What a product applies to each output value before storing it. */
export interface Epilogue {
  /** y = max(y, 0) first. */
  reluFirst: boolean;
  /** Batch-norm coefficients [points, 4, C] (BatchNorm.evalCoefficients), or null for none. */
  norm: Tensor | null;
  /** y = max(y, 0) after the batch norm. */
  reluLast: boolean;
}

const none = wgsl("shaders/epilogue_none.wgsl", noneSource);

/**
 * The epilogue() a product's store calls: `e`'s steps, or the identity. Its steps are
 * constants prepended as a file of their own (wgsl() gives the same object for the same
 * steps, so every call may assemble it).
 */
export function epilogueShader(e: Epilogue | undefined): ShaderSource {
  if (!e) return none;
  const flags = { RELU_FIRST: e.reluFirst, NORM: e.norm !== null, RELU_LAST: e.reluLast };
  const key = Object.entries(flags).filter(([, on]) => on).map(([k]) => k).join(", ");
  const consts = Object.entries(flags).map(([k, on]) => `const EPILOGUE_${k} = ${on};\n`);
  return wgsl(
    "shaders/epilogue.wgsl",
    source,
    wgsl(`src/nn/epilogue.ts (${key || "identity"})`, consts.join("")),
  );
}

/**
 * Binding 5 of a product that stores through `e`: its coefficients, `fallback` (any buffer the
 * product only reads) where it has none, null without an epilogue.
 */
export function epilogueBinding(e: Epilogue | undefined, fallback: Tensor): Tensor | null {
  return e ? e.norm ?? fallback : null;
}

/** A layer whose evaluation forward can apply an epilogue (Conv2d, Dense). */
export interface EpilogueLayer extends Layer {
  /** The evaluation forward of x with `epilogue` applied to every output value. */
  forwardWith(ctx: ForwardContext, x: Tensor, epilogue: Epilogue): Tensor;
}

/** One product and the layers after it that its epilogue replaces. */
export interface FusedRun {
  /** Index of the product layer. */
  product: number;
  /** Index of the last layer the epilogue replaces. */
  last: number;
  reluFirst: boolean;
  /** The batch norm applied, or null. */
  norm: BatchNorm | null;
  reluLast: boolean;
}

/**
 * The runs of `layers` an evaluation forward fuses: each product followed by ReLU, batch norm,
 * ReLU in that order (each optional, at least one present), with evaluation dropouts (the
 * identity) anywhere between them.
 */
export function fusedRuns(layers: readonly Layer[]): FusedRun[] {
  const runs: FusedRun[] = [];
  for (let i = 0; i < layers.length; i++) {
    if (!("forwardWith" in layers[i])) continue;
    let j = i + 1;
    // Moves j past the next `kind` layer (and the dropouts before it), if that is what follows.
    const take = (kind: string) => {
      let next = j;
      while (layers[next]?.kind === "dropout") next++;
      if (layers[next]?.kind !== kind) return false;
      j = next + 1;
      return true;
    };
    const reluFirst = take("relu");
    const norm = take("batchnorm") ? layers[j - 1] as BatchNorm : null;
    const reluLast = norm !== null && take("relu");
    if (!reluFirst && !norm) continue;
    runs.push({ product: i, last: j - 1, reluFirst, norm, reluLast });
    i = j - 1;
  }
  return runs;
}
