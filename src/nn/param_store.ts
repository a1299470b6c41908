/**
 * The parameter registry: every trainable parameter of a model in one flat buffer (with a
 * gradient buffer of the same layout) and running statistics in another. One flat vector is
 * what Adam updates in one kernel and what the perturbation shaders index. Each parameter starts
 * on a 64-element boundary (256 bytes, the largest storage-offset alignment WebGPU allows), on
 * every adapter, so flat indices (and the noise keyed by them) do not depend on the adapter.
 * @module
 */
import type { Gpu, GpuBufferView } from "../gpu/gpu.ts";
import { fill, unary } from "../ops/elementwise.ts";
import { max } from "../ops/reduce.ts";
import { fillUniform } from "../ops/random.ts";
import { RNG_DOMAIN } from "../rng/philox.ts";
import { shapeSize, Tensor } from "../tensor.ts";
import type { ParamBinding, ParamSpec } from "./layer.ts";

/** Elements between parameter starts are a multiple of this. */
export const PARAM_ALIGN = 64;

/** One registered parameter. */
export interface ParamEntry {
  /** Index of the layer in the model. */
  layer: number;
  /** "<layer index>.<name>", e.g. "0.weight". */
  key: string;
  /** What the layer declared. */
  spec: ParamSpec;
  /** Where the values and gradients live. */
  binding: ParamBinding;
}

const align = (n: number) => Math.ceil(n / PARAM_ALIGN) * PARAM_ALIGN;

/** Length of the flat trainable vector for `layers`' specs (as {@link ParamStore} lays it out). */
export function trainableLength(layers: readonly ParamSpec[][]): number {
  let length = 0;
  for (const spec of layers.flat()) {
    if (spec.kind !== "running") length = align(length + shapeSize(spec.shape));
  }
  return Math.max(length, PARAM_ALIGN);
}

/** Flat storage for the parameters of a model's layers. */
export class ParamStore {
  /** Every parameter, in layer order then declaration order. */
  readonly entries: readonly ParamEntry[];
  /** Trainable values (padded layout). */
  readonly values: Tensor;
  /** Gradients, same layout as `values`. */
  readonly grads: Tensor;
  /** Running statistics (not trainable). */
  readonly stats: Tensor;
  /** Number of trainable values, without padding. */
  readonly count: number;
  #assigned = false;

  private constructor(entries: ParamEntry[], values: Tensor, grads: Tensor, stats: Tensor) {
    this.entries = entries;
    this.values = values;
    this.grads = grads;
    this.stats = stats;
    this.count = entries.filter((e) => e.spec.kind !== "running")
      .reduce((n, e) => n + shapeSize(e.spec.shape), 0);
  }

  /** Allocates storage for the specs of each layer (not initialised; see `initialize`). */
  static create(gpu: Gpu, layers: readonly ParamSpec[][]): ParamStore {
    let trainable = 0, running = 0;
    const placed = layers.flatMap((specs, layer) =>
      specs.map((spec) => {
        const size = shapeSize(spec.shape);
        const isRunning = spec.kind === "running";
        const at = isRunning ? running : trainable;
        if (isRunning) running = align(at + size);
        else trainable = align(at + size);
        return { layer, spec, at, size, isRunning };
      })
    );
    const length = trainableLength(layers);
    const values = Tensor.zeros(gpu, [length]);
    const grads = Tensor.zeros(gpu, [length]);
    const stats = Tensor.zeros(gpu, [Math.max(running, PARAM_ALIGN)]);
    const entries = placed.map(({ layer, spec, at, isRunning }) => ({
      layer,
      key: `${layer}.${spec.name}`,
      spec,
      binding: isRunning
        ? { value: stats.view(spec.shape, at), offset: -1 }
        : { value: values.view(spec.shape, at), grad: grads.view(spec.shape, at), offset: at },
    }));
    return new ParamStore(entries, values, grads, stats);
  }

  /** The bindings of layer `layer`, in its declaration order. */
  bindingsOf(layer: number): ParamBinding[] {
    return this.entries.filter((e) => e.layer === layer).map((e) => e.binding);
  }

  /**
   * Records PyTorch's default initialisation: uniform(-bound, bound) and constants. Values
   * depend on (seed, flat index) only.
   */
  initialize(seed: number): void {
    for (const { spec, binding } of this.entries) {
      if (spec.init.kind === "constant") fill(binding.value, spec.init.value);
      else if (binding.offset < 0) {
        throw new Error(`${spec.name}: running statistics start constant`);
      } else {
        const { bound } = spec.init;
        fillUniform(
          binding.value,
          { seed, domain: RNG_DOMAIN.init, offset: binding.offset },
          -bound,
          bound,
        );
      }
    }
    this.#assigned = true;
  }

  /** Records that the values were written from elsewhere (e.g. a checkpoint). */
  markAssigned(): void {
    this.#assigned = true;
  }

  /**
   * Whether the values were ever initialised or written. Writes straight into the bindings
   * (`gpu.write`) are not tracked, so an untracked store is read once: never written, it still
   * holds the zeros it was created with.
   */
  async assigned(): Promise<boolean> {
    if (this.#assigned) return true;
    const magnitude = unary(this.values, "abs");
    const largest = max(magnitude);
    magnitude.dispose();
    const [m] = await largest.read();
    largest.dispose();
    return this.#assigned = m !== 0;
  }

  /** Frees the buffers. */
  dispose(): void {
    this.values.dispose();
    this.grads.dispose();
    this.stats.dispose();
  }
}

/**
 * One binding that covers views `first` .. `last` of the same buffer (e.g. a layer's weight
 * and bias); returns it with each view's element offset inside it.
 */
export function span(
  first: Tensor,
  last: Tensor,
): { view: GpuBufferView; at: (t: Tensor) => number } {
  if (first.buffer !== last.buffer || last.byteOffset < first.byteOffset) {
    throw new Error("parameter views to span must share one buffer, in order (use ParamStore)");
  }
  return {
    view: {
      buffer: first.buffer,
      byteOffset: first.byteOffset,
      byteLength: last.byteOffset + last.byteLength - first.byteOffset,
    },
    at: (t: Tensor) => (t.byteOffset - first.byteOffset) / 4,
  };
}
