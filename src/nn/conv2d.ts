/**
 * 2D convolution (PyTorch's nn.Conv2d, NCHW, zero padding), as implicit GEMM on the GEMM core.
 * @module
 */
import { Tensor } from "../tensor.ts";
import { GEMM_SHAPE, recordGemm } from "./gemm.ts";
import {
  recordWinograd,
  recordWinogradGradient,
  winogradApplies,
  type WinogradConv,
  winogradGradientApplies,
  winogradTakes,
} from "./winograd.ts";

import {
  activationDims,
  type ForwardContext,
  type Layer,
  type ParamBinding,
  type ParamSpec,
} from "./layer.ts";
import { span } from "./param_store.ts";
import { type Epilogue, epilogueBinding } from "./epilogue.ts";
import { pointCount, withPerturbation } from "./perturbation.ts";
import { layerShader } from "./layer_shader.ts";
import source from "../../shaders/conv2d.wgsl" with { type: "text" };

/** conv2d.wgsl's Params: the product's shape, then the convolution's geometry and parameters. */
const UNIFORMS = GEMM_SHAPE.extend("Params", {
  batch: "u32",
  inC: "u32",
  inH: "u32",
  inW: "u32",
  outC: "u32",
  outH: "u32",
  outW: "u32",
  kH: "u32",
  kW: "u32",
  stride: "u32",
  pad: "u32",
  xGroupStride: "u32",
  wAt: "u32",
  bAt: "u32",
  wIndex: "u32",
  bIndex: "u32",
});

/** The conv2d shader assembled with a GEMM core, a perturbation variant and an epilogue. */
const convShader = layerShader("shaders/conv2d.wgsl", source);

/** Options of a convolution. */
export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: number;
  /** Zeros added on every side (default 0). */
  padding?: number;
}

/** Convolution of [C, H, W] samples with W [out, in, k, k] and a bias per output channel. */
export class Conv2d implements Layer {
  /** Layer kind. */
  readonly kind = "conv2d";
  /** Step between windows. */
  readonly stride: number;
  /** Zero padding on every side. */
  readonly padding: number;
  #weight?: ParamBinding;
  #bias?: ParamBinding;
  #input?: Tensor;
  /** x of the last training forward packed as the forward's B (shifted rows), for dW. */
  #packedX: Tensor | null = null;
  /** x of the last training forward as Winograd's transformed input tiles, for dW. */
  #transformedX: Tensor | null = null;

  /** A convolution from `inChannels` to `outChannels` with square `kernelSize` windows. */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    { stride = 1, padding = 0 }: Conv2dOptions = {},
  ) {
    for (
      const [name, v, min] of [
        ["in channels", inChannels, 1],
        ["out channels", outChannels, 1],
        ["kernel size", kernelSize, 1],
        ["stride", stride, 1],
        ["padding", padding, 0],
      ] as const
    ) {
      if (!Number.isInteger(v) || v < min) {
        throw new RangeError(`conv2d ${name} must be an integer >= ${min}, got ${v}`);
      }
    }
    this.stride = stride;
    this.padding = padding;
  }

  /** [outChannels, OH, OW] with OH = floor((H + 2 padding - k) / stride) + 1. */
  outputShape(input: readonly number[]): number[] {
    if (input.length !== 3 || input[0] !== this.inChannels) {
      throw new RangeError(`conv2d expects [${this.inChannels}, H, W] samples, got [${input}]`);
    }
    const size = (n: number) =>
      Math.floor((n + 2 * this.padding - this.kernelSize) / this.stride) + 1;
    const [oh, ow] = [size(input[1]), size(input[2])];
    if (oh < 1 || ow < 1) {
      throw new RangeError(
        `conv2d kernel ${this.kernelSize} does not fit [${input}] with padding ${this.padding}`,
      );
    }
    return [this.outChannels, oh, ow];
  }

  /** weight [out, in, k, k] and bias [out], uniform(±1/sqrt(in k k)) as in PyTorch. */
  paramSpecs(): ParamSpec[] {
    const bound = 1 / Math.sqrt(this.inChannels * this.kernelSize ** 2);
    const k = this.kernelSize;
    return [
      {
        name: "weight",
        shape: [this.outChannels, this.inChannels, k, k],
        kind: "weight",
        init: { kind: "uniform", bound },
      },
      { name: "bias", shape: [this.outChannels], kind: "bias", init: { kind: "uniform", bound } },
    ];
  }

  /** Attaches weight and bias storage. */
  bind([weight, bias]: ParamBinding[]): void {
    this.#weight = weight;
    this.#bias = bias;
  }

  #params(): { weight: ParamBinding; bias: ParamBinding } {
    if (!this.#weight || !this.#bias) throw new Error("conv2d layer used before bind()");
    return { weight: this.#weight, bias: this.#bias };
  }

  /** The geometry fields of the shader's parameter struct after m, n, k, splits, kChunk. */
  #fields(batch: number, input: readonly number[], xGroupStride: number, bAt: number) {
    const [, oh, ow] = this.outputShape(input);
    const { weight, bias } = this.#params();
    return {
      batch,
      inC: input[0],
      inH: input[1],
      inW: input[2],
      outC: this.outChannels,
      outH: oh,
      outW: ow,
      kH: this.kernelSize,
      kW: this.kernelSize,
      stride: this.stride,
      pad: this.padding,
      xGroupStride,
      wAt: 0,
      bAt,
      wIndex: weight.offset,
      bIndex: bias.offset,
    };
  }

  /** Size of x in shifted rows, as gemm_b_pack in conv2d.wgsl packs it, in vec4s. */
  #shiftedX(batch: number, oh: number, ow: number): { rows: number; width: number } {
    const k = this.kernelSize;
    return {
      rows: (k * this.inChannels + 1) * batch * ((oh - 1) * this.stride + k),
      width: ow / 4,
    };
  }

  /** y [G, B, out, OH, OW] for x [1 or G, B, in, H, W]. */
  forward(ctx: ForwardContext, x: Tensor): Tensor {
    return this.#forward(ctx, x, undefined);
  }

  /** The evaluation forward with `epilogue` applied to every output (src/nn/epilogue.ts). */
  forwardWith(ctx: ForwardContext, x: Tensor, epilogue: Epilogue): Tensor {
    if (ctx.training) throw new Error("conv2d: epilogues are for evaluation only");
    return this.#forward(ctx, x, epilogue);
  }

  /**
   * The evaluation forward of x = epilogue(lead(x0)) through this convolution and its own
   * epilogue: the leading convolution computed inside this one's Winograd input transform, so
   * that x is never stored (winograd.ts, WinogradLead). Null, recording nothing, where that does
   * not apply; then run the two layers one after the other. `epilogues` is called (and its
   * coefficients recorded) only where it applies.
   */
  forwardLed(
    ctx: ForwardContext,
    x0: Tensor,
    lead: Conv2d,
    epilogues: () => { lead?: Epilogue; own?: Epilogue },
  ): Tensor | null {
    const gpu = ctx.gpu, p = ctx.perturbation;
    if (
      ctx.training || lead.kernelSize !== 3 || lead.stride !== 1 ||
      lead.outChannels !== this.inChannels ||
      !winogradApplies(gpu, this.inChannels, this.kernelSize, this.stride, this.padding)
    ) {
      return null;
    }
    const { groups, batch, sample } = activationDims(x0);
    const points = pointCount(p);
    if (groups !== 1 && groups !== points) {
      throw new RangeError(`input has ${groups} groups for ${points} parameter points`);
    }
    const [, h, w] = lead.outputShape(sample);
    const [oc, oh, ow] = this.outputShape([this.inChannels, h, w]);
    const { weight, bias } = this.#params(), own = lead.#params();
    const params = span(weight.value, bias.value),
      leadParams = span(own.weight.value, own.bias.value);
    const conv: Omit<WinogradConv, "output"> = {
      input: x0,
      batch,
      channels: this.inChannels,
      outChannels: oc,
      inH: h,
      inW: w,
      pad: this.padding,
      params: params.view,
      wAt: params.at(weight.value),
      flip: false,
      bAt: params.at(bias.value),
      points: p && { perturbation: p, groups: points, wIndex: weight.offset, bIndex: bias.offset },
      side: 4,
      lead: {
        channels: lead.inChannels,
        inH: sample[1],
        inW: sample[2],
        pad: lead.padding,
        params: leadParams.view,
        wAt: leadParams.at(own.weight.value),
        bAt: leadParams.at(own.bias.value),
        wIndex: own.weight.offset,
        bIndex: own.bias.offset,
      },
    };
    if (!winogradTakes(gpu, conv)) return null;
    const output = Tensor.empty(gpu, [points, batch, oc, oh, ow]);
    const e = epilogues();
    recordWinograd(gpu, {
      ...conv,
      output,
      epilogue: e.own,
      lead: { ...conv.lead!, epilogue: e.lead },
    });
    return output;
  }

  #forward(ctx: ForwardContext, x: Tensor, epilogue: Epilogue | undefined): Tensor {
    const { weight, bias } = this.#params();
    const { groups, batch, sample, features } = activationDims(x);
    const [oc, oh, ow] = this.outputShape(sample);
    const points = pointCount(ctx.perturbation);
    if (groups !== 1 && groups !== points) {
      throw new RangeError(`input has ${groups} groups for ${points} parameter points`);
    }
    if (ctx.training && ctx.perturbation) throw new Error("perturbed evaluation runs in eval mode");
    const y = Tensor.empty(ctx.gpu, [points, batch, oc, oh, ow]);
    const params = span(weight.value, bias.value);
    if (ctx.training) this.release();
    const winograd = this.#forwardWinograd(ctx, x, y, epilogue);
    const packed = winograd ? null : recordGemm(ctx.gpu, {
      shader: convShader(ctx.perturbation, epilogue),
      constants: { MODE: 0 },
      m: oc,
      n: batch * oh * ow,
      k: this.inChannels * this.kernelSize ** 2 + 1,
      slices: points,
      sharedB: groups === 1,
      // shifted rows of x, kW (not kH kW) copies: see gemm_b_pack in conv2d.wgsl
      // (OW % 4 == 0: four outputs of a row per store)
      register: ow % 4 === 0
        ? { packB: this.#shiftedX(batch, oh, ow), keepB: ctx.training, store: "rows4" }
        : undefined,
      struct: UNIFORMS,
      fields: this.#fields(
        batch,
        sample,
        groups === 1 ? 0 : batch * features,
        params.at(bias.value),
      ),
      loadBindings: withPerturbation([x, params.view], ctx.perturbation),
      storeBindings: [null, null, y, null, epilogueBinding(epilogue, x)],
    });
    if (ctx.training) {
      this.#input = x;
      this.#packedX = packed;
      this.#transformedX = winograd?.transformedInput ?? null;
    }
    return y;
  }

  /**
   * The forward as Winograd products where they apply (register core, 3x3, stride 1), or
   * null; in training the transformed input is returned for the weight gradient.
   */
  #forwardWinograd(
    ctx: ForwardContext,
    x: Tensor,
    y: Tensor,
    epilogue: Epilogue | undefined,
  ): { transformedInput: Tensor | null } | null {
    if (!winogradApplies(ctx.gpu, this.inChannels, this.kernelSize, this.stride, this.padding)) {
      return null;
    }
    const { weight, bias } = this.#params();
    const { groups, batch, sample } = activationDims(x);
    const params = span(weight.value, bias.value);
    const p = ctx.perturbation;
    return recordWinograd(
      ctx.gpu,
      {
        input: x,
        output: y,
        batch,
        channels: this.inChannels,
        outChannels: this.outChannels,
        inH: sample[1],
        inW: sample[2],
        pad: this.padding,
        params: params.view,
        wAt: params.at(weight.value),
        flip: false,
        bAt: params.at(bias.value),
        points: p
          ? { perturbation: p, groups, wIndex: weight.offset, bIndex: bias.offset }
          : undefined,
        epilogue,
      },
      ctx.training &&
        winogradGradientApplies(
          ctx.gpu,
          this.outChannels,
          batch,
          sample[1],
          sample[2],
          this.padding,
        ),
    );
  }

  /** The saved input and its geometry; throws without a training forward. */
  #saved(): { x: Tensor; batch: number; sample: number[]; oh: number; ow: number } {
    const { weight, bias } = this.#params();
    const x = this.#input;
    if (!x) throw new Error("conv2d backward without a training forward");
    if (!weight.grad || !bias.grad) throw new Error("conv2d parameters have no gradient storage");
    const { batch, sample } = activationDims(x);
    const [, oh, ow] = this.outputShape(sample);
    return { x, batch, sample, oh, ow };
  }

  /** dx for dy [1, B, out, OH, OW]; writes the weight and bias gradients. */
  backward(ctx: ForwardContext, dy: Tensor): Tensor {
    const { weight, bias } = this.#params();
    const { x, batch, sample, oh, ow } = this.#saved();
    const dx = Tensor.empty(ctx.gpu, x.shape);
    const params = span(weight.value, bias.value);
    // dx is the convolution of dy with W rotated, padded k - 1 - padding.
    const pad = this.kernelSize - 1 - this.padding;
    const winograd =
      winogradApplies(ctx.gpu, this.outChannels, this.kernelSize, this.stride, pad) &&
      recordWinograd(ctx.gpu, {
          input: dy,
          output: dx,
          batch,
          channels: this.outChannels,
          outChannels: this.inChannels,
          inH: oh,
          inW: ow,
          pad,
          params: params.view,
          wAt: params.at(weight.value),
          flip: true,
          bAt: null,
        }) !== null;
    if (!winograd) {
      recordGemm(ctx.gpu, {
        shader: convShader(undefined),
        constants: { MODE: 1 },
        m: this.inChannels,
        n: batch * sample[1] * sample[2],
        k: this.outChannels * this.kernelSize ** 2,
        slices: 1,
        // shifted rows of dy, kW copies: see gemm_b_pack in conv2d.wgsl
        register: sample[2] % 4 === 0
          ? {
            packB: {
              rows: this.kernelSize * this.outChannels * batch * (sample[1] + this.kernelSize - 1),
              width: sample[2] / 4,
            },
          }
          : undefined,
        struct: UNIFORMS,
        fields: this.#fields(batch, sample, 0, params.at(bias.value)),
        loadBindings: [dy, params.view],
        storeBindings: [null, null, dx],
      });
    }
    this.backwardParams(ctx, dy);
    return dx;
  }

  /** Writes the weight and bias gradients for dy [1, B, out, OH, OW] (no dx). */
  backwardParams(ctx: ForwardContext, dy: Tensor): void {
    const { weight, bias } = this.#params();
    const { x, batch, sample, oh, ow } = this.#saved();
    const grads = span(weight.grad!, bias.grad!);
    if (this.#transformedX) {
      recordWinogradGradient(ctx.gpu, {
        dy,
        transformedInput: this.#transformedX,
        batch,
        channels: this.inChannels,
        outChannels: this.outChannels,
        inH: sample[1],
        inW: sample[2],
        pad: this.padding,
        grads: grads.view,
        wAt: grads.at(weight.grad!),
        bAt: grads.at(bias.grad!),
      });
      return;
    }
    const kk = this.inChannels * this.kernelSize ** 2;
    recordGemm(ctx.gpu, {
      shader: convShader(undefined),
      constants: { MODE: 2 },
      m: this.outChannels,
      n: kk + 1,
      k: batch * oh * ow,
      slices: 1,
      struct: UNIFORMS,
      fields: this.#fields(batch, sample, 0, grads.at(bias.grad!)),
      // vec4s of four pixels of dy and of shifted rows of x, as the forward packed them
      register: ow % 4 === 0
        ? {
          form: "dot",
          directA: dy,
          packB: this.#shiftedX(batch, oh, ow),
          packedB: this.#packedX,
        }
        : undefined,
      loadBindings: [dy, x],
      storeBindings: [null, null, grads.view],
    });
  }

  /** Forgets the saved input and frees its packed copy. */
  release(): void {
    this.#input = undefined;
    this.#packedX?.dispose();
    this.#packedX = null;
    this.#transformedX?.dispose();
    this.#transformedX = null;
  }
}
