/**
 * A sequential model: layers built from a {@link ModelConfig}, their parameters in one
 * {@link ParamStore}, forward and backward passes that only record kernels.
 * @module
 */
import { DisposedError } from "../gpu/disposed.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { Tensor } from "../tensor.ts";
import { BatchNorm } from "./batchnorm.ts";
import { Conv2d } from "./conv2d.ts";
import { Dense } from "./dense.ts";
import { Dropout } from "./dropout.ts";
import { type EpilogueLayer, type FusedRun, fusedRuns } from "./epilogue.ts";
import { Flatten } from "./flatten.ts";
import type { ForwardContext, Layer } from "./layer.ts";
import type { LayerSpec, ModelConfig } from "./model_config.ts";
import { ParamStore, trainableLength } from "./param_store.ts";
import { AvgPool2d, GlobalAvgPool, MaxPool2d } from "./pool.ts";
import { ReLU } from "./relu.ts";

/** Builds the layer a spec describes; `index` salts dropout masks per layer. */
export function buildLayer(spec: LayerSpec, index: number): Layer {
  switch (spec.type) {
    case "dense":
      return new Dense(spec.in, spec.out);
    case "conv2d":
      return new Conv2d(spec.in, spec.out, spec.kernel, {
        stride: spec.stride,
        padding: spec.padding,
      });
    case "relu":
      return new ReLU();
    case "batchnorm":
      return new BatchNorm({ momentum: spec.momentum, eps: spec.eps });
    case "dropout":
      return new Dropout(spec.p, index);
    case "flatten":
      return new Flatten();
    case "maxpool":
      return new MaxPool2d(spec.kernel, spec.stride);
    case "avgpool":
      return new AvgPool2d(spec.kernel, spec.stride);
    case "globalavgpool":
      return new GlobalAvgPool();
    default:
      throw new RangeError(`unknown layer type "${(spec as { type: string }).type}"`);
  }
}

/** Per-sample shapes entering each layer of a model of `config`, and (last) its output's. */
export function layerShapes(config: ModelConfig): number[][] {
  const shapes = [[...config.inputShape]];
  config.layers.forEach((spec, i) =>
    shapes.push(buildLayer(spec, i).outputShape(shapes[shapes.length - 1]))
  );
  return shapes;
}

/**
 * Length of the flat parameter vector a model of `config` has (what perturbations and
 * directions span), computed without a device so sizes can be checked before building it.
 */
export function flatParameterLength(config: ModelConfig): number {
  const shapes = layerShapes(config);
  return trainableLength(config.layers.map((spec, i) => buildLayer(spec, i).paramSpecs(shapes[i])));
}

/** A chain of layers with their parameters (`using` disposes it). */
export class Sequential implements Disposable {
  /** The layers, in order. */
  readonly layers: readonly Layer[];
  /** Per-sample shape entering each layer, and (last) the output shape. */
  readonly shapes: readonly number[][];
  readonly #params: ParamStore;
  /** Index of the first layer with parameters: the layers up to it see the model's input. */
  readonly #firstWithParams: number;
  #activations: Tensor[] = [];
  #fusedRuns?: FusedRun[];
  #disposed = false;

  /** Builds the model and allocates its (uninitialised) parameters. */
  constructor(readonly gpu: Gpu, readonly config: ModelConfig) {
    this.layers = config.layers.map((spec, i) => buildLayer(spec, i));
    const shapes: number[][] = [[...config.inputShape]];
    for (const layer of this.layers) shapes.push(layer.outputShape(shapes[shapes.length - 1]));
    this.shapes = shapes;
    const specs = this.layers.map((l, i) => l.paramSpecs(shapes[i]));
    this.#params = ParamStore.create(gpu, specs);
    this.#firstWithParams = specs.findIndex((s) => s.length > 0);
    this.layers.forEach((layer, i) => layer.bind(this.#params.bindingsOf(i)));
  }

  /** Parameters, gradients and running statistics; throws once the model is disposed. */
  get params(): ParamStore {
    return this.#live();
  }

  #live(): ParamStore {
    if (this.#disposed) {
      throw new DisposedError(
        `Sequential "${this.config.name}"`,
        "dispose()",
        "build a new one (or load its checkpoint again)",
      );
    }
    return this.#params;
  }

  /** Per-sample output shape (e.g. [10] logits). */
  get outputShape(): number[] {
    return this.shapes[this.shapes.length - 1];
  }

  /** Records PyTorch's default initialisation, seeded. */
  initialize(seed: number): void {
    this.params.initialize(seed);
  }

  /**
   * Records the forward pass of x [1, B, ...input] (or [G, B, ...] when perturbed). Returns the
   * output [G, B, ...output], owned by the caller. In training mode the activations are kept
   * for `backward`.
   */
  forward(ctx: ForwardContext, x: Tensor): Tensor {
    this.#live();
    if (this.#activations.length > 0) this.release();
    const expected = this.config.inputShape.join();
    if (x.shape.slice(2).join() !== expected) {
      throw new RangeError(`model expects [groups, batch, ${expected}] input, got [${x.shape}]`);
    }
    let h = x;
    const kept: Tensor[] = [];
    // Up to the first layer with parameters, every parameter point sees the same input.
    const shared = x.shape[0] === 1 && ctx.perturbation ? { ...ctx, sharedInput: true } : ctx;
    // In evaluation, ReLU and batch norm after a product are applied in its store.
    const runs = ctx.training ? [] : this.#fusedRuns ??= fusedRuns(this.layers);
    for (let i = 0; i < this.layers.length; i++) {
      const layerCtx = i <= this.#firstWithParams ? shared : ctx;
      const run = runs.find((r) => r.product === i);
      let out: Tensor;
      const led = ctx.training ? null : this.#forwardLed(ctx, h, i, run, runs);
      if (led) {
        out = led.y;
        i = led.last;
      } else if (run) {
        const norm = run.norm?.evalCoefficients(ctx) ?? null;
        out = (this.layers[i] as EpilogueLayer).forwardWith(layerCtx, h, { ...run, norm });
        norm?.dispose();
        i = run.last;
      } else {
        out = this.layers[i].forward(layerCtx, h);
      }
      if (h !== x) kept.push(h);
      h = out;
    }
    if (h.buffer === x.buffer || kept.some((t) => t.buffer === h.buffer)) {
      // The output is a view of the input or of something released later: copy it out.
      const copy = Tensor.empty(this.gpu, h.shape);
      this.gpu.copy(h, copy);
      h = copy;
    }
    if (ctx.training) this.#activations = kept;
    else for (const t of kept) t.dispose();
    return h;
  }

  /**
   * Where layer i is a convolution whose output (after its fused run) feeds another
   * convolution, the evaluation forward of the two with the first computed in the second's
   * input transform (Conv2d.forwardLed): its output and the last layer it covers, or null.
   */
  #forwardLed(
    ctx: ForwardContext,
    x: Tensor,
    i: number,
    run: FusedRun | undefined,
    runs: FusedRun[],
  ): { y: Tensor; last: number } | null {
    const lead = this.layers[i];
    // Evaluation dropouts between the two are the identity.
    let j = (run?.last ?? i) + 1;
    while (this.layers[j]?.kind === "dropout") j++;
    const next = this.layers[j];
    if (!(lead instanceof Conv2d) || !(next instanceof Conv2d)) return null;
    const nextRun = runs.find((r) => r.product === j);
    const norms: Tensor[] = [];
    // Batch-norm coefficients are recorded only where the two run as one.
    const epilogue = (r: FusedRun | undefined) => {
      if (!r) return undefined;
      const norm = r.norm?.evalCoefficients(ctx) ?? null;
      if (norm) norms.push(norm);
      return { ...r, norm };
    };
    const y = next.forwardLed(
      ctx,
      x,
      lead,
      () => ({ lead: epilogue(run), own: epilogue(nextRun) }),
    );
    for (const t of norms) t.dispose();
    return y && { y, last: nextRun?.last ?? j };
  }

  /** Records the backward pass for the last training forward; gradients land in `params.grads`. */
  backward(ctx: ForwardContext, dOutput: Tensor): void {
    if (!ctx.training) throw new Error("backward needs a training forward first");
    // A layer may return a view of dy (flatten): such a dy is freed only at the end.
    const deferred: Tensor[] = [];
    // Below the first layer with parameters nothing needs a gradient.
    const first = this.layers.findIndex((_, i) => this.params.bindingsOf(i).length > 0);
    let dy = dOutput;
    for (let i = this.layers.length - 1; i >= Math.max(first, 0); i--) {
      const layer = this.layers[i];
      if (i === first && layer.backwardParams) {
        layer.backwardParams(ctx, dy);
        break;
      }
      const dx = layer.backward(ctx, dy);
      if (dy !== dOutput) dx.buffer === dy.buffer ? deferred.push(dy) : dy.dispose();
      dy = dx;
    }
    if (dy !== dOutput) dy.dispose();
    for (const t of deferred) t.dispose();
    this.release();
  }

  /** Frees what the last training forward kept. */
  release(): void {
    for (const layer of this.layers) layer.release();
    for (const t of this.#activations) t.dispose();
    this.#activations = [];
  }

  /** Frees the parameters too; any later use throws a DisposedError. */
  dispose(): void {
    if (this.#disposed) return;
    this.release();
    this.#params.dispose();
    this.#disposed = true;
  }

  /** Disposes it at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
