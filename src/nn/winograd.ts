/**
 * 3x3 stride-1 convolutions by Winograd's F(4x4, 3x3) or F(2x2, 3x3) (`shaders/winograd.wgsl`):
 * 36 (16) matrix products with 4x (2.25x) fewer multiply-adds and operand loads than the direct
 * convolution, plus three transform passes. A training forward, whose transformed input the
 * weight gradient reuses, takes F(2x2, 3x3), so that the gradient is F(3x3, 2x2) over the same
 * tiles; every other convolution (evaluation, perturbed points, input gradients) F(4x4, 3x3). Conv2d
 * uses them on the register GEMM core (adapters that run shaders on the CPU, where the
 * products, not memory traffic, bound a convolution), also at perturbed parameter points. In
 * evaluation a convolution of few channels that feeds one of them (the paper CNN's first) is
 * computed inside the second's input transform (WinogradLead).
 * @module
 */
import type { Gpu, GpuBufferView } from "../gpu/gpu.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { Tensor } from "../tensor.ts";
import type { FieldValues } from "../gpu/uniforms.ts";
import {
  GEMM_SHAPE,
  gemmShader,
  gemmVariant,
  recordGemm,
  REGISTER_MAX_DIM,
  texelShift,
} from "./gemm.ts";
import { invocationShader } from "../gpu/invocation.ts";
import {
  type Perturbation,
  perturbedBiases,
  pointCount,
  withPerturbation,
} from "./perturbation.ts";
import { type Epilogue, epilogueBinding } from "./epilogue.ts";
import { layerShader } from "./layer_shader.ts";
import source from "../../shaders/winograd.wgsl" with { type: "text" };

/**
 * The register tile of the products where K (output channels) is at least WIDE_TILE_ROWS:
 * 8 x 32 outputs per invocation, so that the 8 lanes of a lavapipe SIMD group take 8 row
 * blocks of one column block and share their V loads. Measured against registerTile's 16 x 16
 * on the paper CNN (64 channels): the products' GPU time 1.19x faster (alternating in one
 * process); CNN evaluation 1.04-1.11x and the CNN's Δk loss matrix 1.03-1.08x (in one process
 * and with bench:versus).
 */
const WIDE_TILE = { tm: 8, tn: 32, wg: 64 };
const WIDE_TILE_ROWS = 64;

/**
 * Slices each invocation of F(4x4, 3x3)'s products takes in turn, whose V interleaves them
 * (winograd_v6_at). Measured on the paper CNN's evaluation against the layout with slices
 * outermost, alternating in one process (two runs of 7 rounds; a few percent apart run to run):
 * 1 slice 0.95x, 4 1.04x, 6 1.05x, 9 1.00x, 12 1.05x, 18 1.02x, 36 1.03x.
 */
const SLICES_PER = 6;

/** winograd.wgsl assembled with a GEMM core, a perturbation variant and an epilogue. */
const winogradShader = layerShader("shaders/winograd.wgsl", source, invocationShader);

/** One convolution of `batch` images: input [C, H, W] to output [K, OH, OW], OH = H + 2 pad - 2. */
export interface WinogradConv {
  /** [1, batch, C, H, W]. */
  input: Tensor;
  /** [1, batch, K, OH, OW], written. */
  output: Tensor;
  batch: number;
  /** Input channels C (a multiple of 4). */
  channels: number;
  /** Output channels K. */
  outChannels: number;
  inH: number;
  inW: number;
  /** Zero padding on every side (at most 2). */
  pad: number;
  /** The binding holding the weights (and bias). */
  params: GpuBufferView;
  /** Element offset of the weights in `params`: [K, C, 3, 3], or [C, K, 3, 3] when flipped. */
  wAt: number;
  /** Convolve with W[c, k] rotated by 180 degrees: the input gradient of a convolution. */
  flip: boolean;
  /** Element offset of the bias [K] in `params`, or null for none. */
  bAt: number | null;
  /**
   * G parameter points to evaluate at (the weights and bias read through `perturbed()`; the
   * output gets G groups), with the flat indices of W and the bias; the input has 1 or G groups.
   */
  points?: { perturbation: Perturbation; groups: number; wIndex: number; bIndex: number };
  /** Applied to every output value as the output transform stores it (evaluation only). */
  epilogue?: Epilogue;
  /** Output tile side (default: 2 where the transformed input is kept, else 4). */
  side?: TileSide;
  /**
   * The input is this convolution's output, computed in the input transform (F(4x4, 3x3),
   * evaluation, one pass); `input` is then the lead's input.
   */
  lead?: WinogradLead;
}

/**
 * A leading 3x3, stride-1 convolution: x = epilogue(conv(x0)) for x0 [1 or G, batch, C0, H0,
 * W0] (the WinogradConv's `input`) and C0 up to LEAD_MAX_CHANNELS.
 */
export interface WinogradLead {
  /** Input channels C0. */
  channels: number;
  inH: number;
  inW: number;
  /** Zero padding on every side (at most 2). */
  pad: number;
  /** The binding holding its weights [C, C0, 3, 3] at wAt and bias [C] at bAt. */
  params: GpuBufferView;
  wAt: number;
  bAt: number;
  /** Flat indices of W0 and its bias (for perturbed points). */
  wIndex: number;
  bIndex: number;
  /** Applied to each value of x. */
  epilogue?: Epilogue;
}

/**
 * Most input channels of a leading convolution the input transform computes: each of its
 * invocations loads 8 rows of every input channel, and 36 weights a channel.
 */
export const LEAD_MAX_CHANNELS = 4;

/** Side of the output tiles: 2 for F(2x2, 3x3), 4 for F(4x4, 3x3). */
type TileSide = 2 | 4;

/** Output size and side x side tiles of a 3x3 stride-1 convolution of an inH x inW input. */
function geometry(inH: number, inW: number, pad: number, side: TileSide = 2) {
  const outH = inH + 2 * pad - 2, outW = inW + 2 * pad - 2;
  const tilesH = ceilDiv(outH, side), tilesW = ceilDiv(outW, side);
  return { outH, outW, tilesH, tilesW, tiles: tilesH * tilesW, slices: (side + 2) ** 2 };
}

/** winograd.wgsl's Params: the product's shape, then the fields below (see there). */
const OWN_FIELDS = {
  batch: "u32",
  inH: "u32",
  inW: "u32",
  outH: "u32",
  outW: "u32",
  tilesH: "u32",
  tilesW: "u32",
  pad: "u32",
  wAt: "u32",
  bAt: "u32",
  flip: "u32",
  hasBias: "u32",
  points: "u32",
  groups: "u32",
  wIndex: "u32",
  tableAt: "u32",
  tableStride: "u32",
  tStride: "u32",
  leadChannels: "u32",
  leadH: "u32",
  leadW: "u32",
  leadPad: "u32",
  leadGroups: "u32",
  leadWAt: "u32",
  leadBAt: "u32",
  leadWIndex: "u32",
  leadBIndex: "u32",
} as const;
const UNIFORMS = GEMM_SHAPE.extend("Params", OWN_FIELDS);

/** What a caller gives of winograd.wgsl's Params after m, n, k, splits, kChunk. */
interface Fields {
  side: TileSide;
  batch: number;
  inH: number;
  inW: number;
  pad: number;
  wAt: number;
  bAt: number;
  flip: boolean;
  hasBias: boolean;
  points: number;
  groups: number;
  wIndex: number;
  tableAt: number;
  tableStride: number;
  tStride: number;
  /** The lead's fields (winograd.wgsl's Params), zero without one. */
  leadFields?: LeadFields;
}

type LeadFields = Pick<
  FieldValues<typeof OWN_FIELDS>,
  | "leadChannels"
  | "leadH"
  | "leadW"
  | "leadPad"
  | "leadGroups"
  | "leadWAt"
  | "leadBAt"
  | "leadWIndex"
  | "leadBIndex"
>;

const NO_LEAD: LeadFields = {
  leadChannels: 0,
  leadH: 0,
  leadW: 0,
  leadPad: 0,
  leadGroups: 0,
  leadWAt: 0,
  leadBAt: 0,
  leadWIndex: 0,
  leadBIndex: 0,
};

/** The layer's fields of the struct, the output geometry derived from the input's. */
function fields(f: Fields): FieldValues<typeof OWN_FIELDS> {
  const g = geometry(f.inH, f.inW, f.pad, f.side);
  return {
    batch: f.batch,
    inH: f.inH,
    inW: f.inW,
    outH: g.outH,
    outW: g.outW,
    tilesH: g.tilesH,
    tilesW: g.tilesW,
    pad: f.pad,
    wAt: f.wAt,
    bAt: f.bAt,
    flip: f.flip ? 1 : 0,
    hasBias: f.hasBias ? 1 : 0,
    points: f.points,
    groups: f.groups,
    wIndex: f.wIndex,
    tableAt: f.tableAt,
    tableStride: f.tableStride,
    tStride: f.tStride,
    ...(f.leadFields ?? NO_LEAD),
  };
}

/**
 * Whether a k x k, `stride` convolution contracting over `channels` runs as Winograd on `gpu`:
 * 3x3, stride 1, padding at most 2, channels a multiple of 4, register GEMM core.
 */
export function winogradApplies(
  gpu: Gpu,
  channels: number,
  kernel: number,
  stride: number,
  pad: number,
): boolean {
  return gemmVariant(gpu) === "register" && kernel === 3 && stride === 1 && pad >= 0 && pad <= 2 &&
    channels % 4 === 0;
}

/**
 * Images per pass such that the transformed weights, inputs and products each fit one binding,
 * V has fewer than REGISTER_MAX_DIM rows (so that the products read it in place instead of
 * packing it again slice by slice), F(4x4, 3x3)'s input fits a texture, and every pass's input
 * and output views start on a binding alignment; 0 where no pass fits (or the device cannot
 * dispatch every slice), and the caller convolves directly. Exported for its tests.
 */
export function imagesPerPass(
  gpu: Pick<Gpu, "limits"> & { device: { limits: { minStorageBufferOffsetAlignment: number } } },
  c: Pick<WinogradConv, "batch" | "channels" | "outChannels" | "inH" | "inW" | "points">,
  { tiles, slices, outH, outW }: ReturnType<typeof geometry>,
): number {
  const limit = gpu.limits.maxStorageBufferBindingSize;
  const K = c.outChannels, C = c.channels, out = outH * outW;
  const G = pointCount(c.points?.perturbation), groups = c.points?.groups ?? 1;
  if (
    gpu.limits.maxComputeWorkgroupsPerDimension < slices * G || slices * G * K * C * 4 > limit
  ) {
    return 0;
  }
  const perImage = slices * tiles * Math.max(groups * C, G * K) * 4;
  // F(4x4, 3x3) copies the pass's input into a texture of 2^shift texels a row.
  const texelRows = (n: number) =>
    slices === 36 ? Math.ceil(groups * n * C * c.inH * c.inW / 4 / 2 ** texelShift(gpu.limits)) : 0;
  // M's rows are padded to whole vec4s of tiles (at most 3 more).
  const fits = (n: number) =>
    n * perImage + slices * G * K * 3 * 4 <= limit &&
    slices * groups * n * tiles < REGISTER_MAX_DIM &&
    texelRows(n) <= gpu.limits.maxTextureDimension2D;
  // Points read every image of a group: one pass or none.
  if (G > 1) return fits(c.batch) ? c.batch : 0;
  const align = gpu.device.limits.minStorageBufferOffsetAlignment;
  const inBytes = C * c.inH * c.inW * 4, outBytes = K * out * 4;
  for (let n = Math.min(c.batch, Math.floor(limit / perImage)); n >= 1; n--) {
    if (!fits(n)) continue;
    if (n === c.batch || ((n * inBytes) % align === 0 && (n * outBytes) % align === 0)) return n;
  }
  return 0;
}

/**
 * Records the transforms and the products of one convolution, in passes over the images
 * that fit the device's bindings. Returns null, recording nothing, where it cannot; else the
 * transformed input V [16, tiles, C] of F(2x2, 3x3) when `keepInput` asked for it and one pass
 * took every image (the weight gradient reuses it: see recordWinogradGradient), which the
 * caller owns.
 */
export function recordWinograd(
  gpu: Gpu,
  conv: WinogradConv,
  keepInput = false,
): { transformedInput: Tensor | null } | null {
  const c = { ...conv, side: conv.side ?? (keepInput ? 2 : 4) };
  const g = geometry(c.inH, c.inW, c.pad, c.side);
  const { outH, outW } = g;
  const images = passImages(gpu, c);
  if (images === 0) return null;
  if (images === c.batch) {
    return { transformedInput: recordPass(gpu, c, keepInput && c.side === 2) };
  }
  const inSize = c.channels * c.inH * c.inW, outSize = c.outChannels * outH * outW;
  for (let n0 = 0; n0 < c.batch; n0 += images) {
    const n = Math.min(images, c.batch - n0);
    recordPass(gpu, {
      ...c,
      batch: n,
      input: c.input.view([1, n, c.channels, c.inH, c.inW], n0 * inSize),
      output: c.output.view([1, n, c.outChannels, outH, outW], n0 * outSize),
    }, false);
  }
  return { transformedInput: null };
}

/** A convolution as recordWinograd plans it, before its output exists. */
type Planned = Omit<WinogradConv, "output"> & { side: TileSide };

/** Images per pass of `c` (imagesPerPass), 0 where it has a lead the transform cannot take. */
function passImages(gpu: Gpu, c: Planned): number {
  const images = imagesPerPass(gpu, c, geometry(c.inH, c.inW, c.pad, c.side));
  return c.lead && !leadApplies(gpu, c, images) ? 0 : images;
}

/**
 * Whether recordWinograd records `conv` (without keeping its transformed input), before
 * anything it depends on is recorded.
 */
export function winogradTakes(gpu: Gpu, conv: Omit<WinogradConv, "output">): boolean {
  return passImages(gpu, { ...conv, side: conv.side ?? 4 }) > 0;
}

/**
 * Whether the input transform computes `c.lead`: F(4x4, 3x3) in one pass, a lead of at most
 * LEAD_MAX_CHANNELS input channels and padding 2, its input whole vec4s that fit a texture.
 */
function leadApplies(gpu: Gpu, c: Planned, images: number): boolean {
  const lead = c.lead!, x0 = c.input;
  const texels = x0.byteLength / 16;
  return c.side === 4 && images === c.batch && lead.channels <= LEAD_MAX_CHANNELS &&
    lead.pad <= 2 && lead.inH + 2 * lead.pad - 2 === c.inH &&
    lead.inW + 2 * lead.pad - 2 === c.inW && Number.isInteger(texels) &&
    x0.byteOffset % 16 === 0 &&
    Math.ceil(texels / 2 ** texelShift(gpu.limits)) <= gpu.limits.maxTextureDimension2D;
}

/** One pass: the transforms and the products for c.batch images; V if kept. */
function recordPass(
  gpu: Gpu,
  c: WinogradConv & { side: TileSide },
  keep: boolean,
): Tensor | null {
  const K = c.outChannels, C = c.channels;
  const { tiles, slices, outW } = geometry(c.inH, c.inW, c.pad, c.side);
  const T = c.batch * tiles;
  // F(4x4, 3x3)'s output transform reads four tiles' products at once: rows in whole vec4s.
  const tStride = c.side === 4 ? ceilDiv(T, 4) * 4 : T;
  const perturbation = c.points?.perturbation, lead = c.lead;
  // A lead's output, the products' input, has one group per point.
  const G = pointCount(perturbation), groups = lead ? G : c.points?.groups ?? 1;
  // The bias of each point: a table of G perturbed biases, or the bias itself for all.
  const table = perturbation && c.bAt !== null
    ? perturbedBiases(gpu, perturbation, c.params, c.bAt, c.points!.bIndex, K)
    : null;
  const own = fields({
    ...c,
    bAt: c.bAt ?? 0,
    hasBias: c.bAt !== null,
    points: G,
    groups,
    wIndex: c.points?.wIndex ?? 0,
    tableAt: table ? 0 : c.bAt ?? 0,
    tableStride: table ? K : 0,
    tStride,
    leadFields: lead && {
      leadChannels: lead.channels,
      leadH: lead.inH,
      leadW: lead.inW,
      leadPad: lead.pad,
      leadGroups: c.input.shape[0],
      leadWAt: lead.wAt,
      leadBAt: lead.bAt,
      leadWIndex: lead.wIndex,
      leadBIndex: lead.bIndex,
    },
  });
  const struct = UNIFORMS.write({ ...own, m: K, n: T, k: C, splits: 1, kChunk: C });
  const shader = winogradShader(perturbation);
  // F(4x4, 3x3)'s kernels end in 6 (its input tile side), F(2x2, 3x3)'s in nothing.
  const suffix = c.side === 4 ? "6" : "";
  const constants = { OUT_TILE: c.side };
  const kernel = (entryPoint: string) => ({
    shader: shader(gemmShader),
    entryPoint: entryPoint + suffix,
    constants,
  });
  const u = Tensor.empty(gpu, [G, slices, K, C]);
  const v = Tensor.empty(gpu, [groups, slices, T, C]);
  const m = Tensor.empty(gpu, [G, slices, K, tStride]);
  gpu.dispatch({
    kernel: kernel("weightTransform"),
    bindings: withPerturbation([null, c.params, u], perturbation),
    params: struct,
    workgroups: ceilDiv(G * K * C, 64),
  });
  // F(4x4, 3x3) reads x (or a lead's x0) from a texture copy (see winograd_load4): on the
  // paper CNN's evaluation its four input transforms took 41 ms of GPU time instead of 52, and
  // the copies 4.8 ms.
  const shift = texelShift(gpu.limits);
  const texels = c.side === 4 ? gpu.textureCopy(c.input, 2 ** shift) : null;
  const texelConstants = { ...constants, X_TEXEL_SHIFT: shift };
  if (lead) {
    // The lead's weights, bias and epilogue coefficients at every point, as vec4s over four
    // channels, then the input transform that computes x from x0.
    const leadShader = winogradShader(perturbation, lead.epilogue)(gemmShader);
    const entries = G * (C / 4) * (9 * lead.channels + 4);
    const leadTable = Tensor.empty(gpu, [entries * 4]);
    const coefficients = lead.epilogue ? lead.epilogue.norm ?? lead.params : null;
    gpu.dispatch({
      kernel: { shader: leadShader, entryPoint: "leadTable", constants },
      bindings: withPerturbation([null, lead.params, leadTable, null, coefficients], perturbation),
      params: struct,
      workgroups: ceilDiv(entries, 64),
    });
    gpu.dispatch({
      kernel: {
        shader: leadShader,
        entryPoint: "inputTransformLed6",
        constants: texelConstants,
      },
      bindings: [null, leadTable, v, null, null, texels!.view],
      params: struct,
      workgroups: ceilDiv(groups * T * C / 4, 64),
    });
    leadTable.dispose();
  } else {
    gpu.dispatch({
      kernel: { ...kernel("inputTransform"), constants: texels ? texelConstants : constants },
      bindings: texels ? [null, null, v, null, null, texels.view] : [c.input, null, v],
      params: struct,
      workgroups: ceilDiv(groups * T * C / 4, 64),
    });
  }
  texels?.release();
  recordGemm(gpu, {
    shader,
    constants,
    m: K,
    n: T,
    k: C,
    slices: slices * G,
    // U read in place and V as the transform wrote it, vec4s along C: one operand holding
    // every slice where one input group serves every point, and F(4x4, 3x3)'s V however many
    // groups (see winograd_v6_at in the shader)
    register: {
      form: "dot",
      directA: u,
      packB: groups === 1 || c.side === 4
        ? { rows: groups * slices * T, width: C / 4, everySlice: true }
        : { rows: T, width: C / 4 },
      packedB: v,
      // F(4x4, 3x3)'s products have rows padded to whole vec4s (tStride)
      store: c.side === 4 ? "rows4" : "scalar",
      tile: K >= WIDE_TILE_ROWS ? WIDE_TILE : undefined,
      slicesPer: c.side === 4 ? SLICES_PER : 1,
    },
    struct: UNIFORMS,
    fields: own,
    loadBindings: [u, v],
    storeBindings: [null, null, m],
  });
  // Rows of four outputs are whole vec4s where OW % 4 == 0: one store each.
  const rows = c.side === 4 && outW % 4 === 0 ? "Rows" : "";
  gpu.dispatch({
    kernel: {
      ...kernel("outputTransform"),
      entryPoint: `outputTransform${suffix}${rows}`,
      shader: winogradShader(perturbation, c.epilogue)(gemmShader),
    },
    bindings: [m, null, c.output, table ?? c.params, epilogueBinding(c.epilogue, m)],
    params: struct,
    workgroups: ceilDiv(G * K * (c.side === 4 ? tStride / 4 : T), 64),
  });
  table?.dispose();
  for (const t of [u, m]) t.dispose();
  if (keep) return v;
  v.dispose();
  return null;
}

/** The weight and bias gradients of a convolution whose forward kept its transformed input. */
export interface WinogradGradient {
  /** dy [1, batch, K, OH, OW]. */
  dy: Tensor;
  /** The forward's transformed input, [16, tiles, C]. */
  transformedInput: Tensor;
  batch: number;
  channels: number;
  /** Output channels K (a multiple of 4). */
  outChannels: number;
  inH: number;
  inW: number;
  pad: number;
  /** The gradient binding; dW [K, C, 3, 3] at wAt and db [K] at bAt are overwritten. */
  grads: GpuBufferView;
  wAt: number;
  bAt: number;
}

/**
 * Whether recordWinogradGradient takes a convolution of `batch` inH x inW images to K output
 * channels on `gpu` (its forward having been Winograd).
 */
export function winogradGradientApplies(
  gpu: Gpu,
  outChannels: number,
  batch: number,
  inH: number,
  inW: number,
  pad: number,
): boolean {
  const g = geometry(inH, inW, pad);
  // outputSums loops over one image's outputs (lavapipe ends loops at 65,535 iterations)
  return outChannels % 4 === 0 && g.outH * g.outW < 65_536 &&
    16 * batch * g.tiles * outChannels * 4 <= gpu.limits.maxStorageBufferBindingSize;
}

/**
 * Records dW and db by F(3x3, 2x2) over the forward's tiles: 16 products of the transformed
 * dy with the forward's transformed input, contracted over every tile of every image.
 */
export function recordWinogradGradient(gpu: Gpu, g: WinogradGradient): void {
  const K = g.outChannels, C = g.channels;
  const T = g.batch * geometry(g.inH, g.inW, g.pad).tiles;
  const own = fields({
    ...g,
    side: 2,
    flip: false,
    hasBias: false,
    points: 1,
    groups: 1,
    wIndex: 0,
    tableAt: 0,
    tableStride: 0,
    tStride: C,
  });
  const struct = UNIFORMS.write({ ...own, m: K, n: C, k: T, splits: 1, kChunk: T });
  const shader = winogradShader(undefined);
  const kernel = (entryPoint: string) => ({ shader: shader(gemmShader), entryPoint });
  const u = Tensor.empty(gpu, [16, T, K]);
  gpu.dispatch({
    kernel: kernel("gradientTransform"),
    bindings: [g.dy, null, u],
    params: struct,
    workgroups: ceilDiv(T * K / 4, 64),
  });
  const m = Tensor.empty(gpu, [16, K, C]);
  recordGemm(gpu, {
    shader,
    constants: { GRAD: 1 },
    m: K,
    n: C,
    k: T,
    slices: 16,
    // U' and V as the transforms wrote them: row t of A (vec4s along k) and of B (along c)
    register: { packB: { rows: T, width: C / 4 }, packedB: g.transformedInput, packedA: u },
    struct: UNIFORMS,
    fields: own,
    loadBindings: [u, g.transformedInput],
    storeBindings: [null, null, m],
  });
  gpu.dispatch({
    kernel: kernel("weightGradient"),
    bindings: [m, null, g.grads],
    params: struct,
    workgroups: ceilDiv(K * C, 64),
  });
  const sums = Tensor.empty(gpu, [g.batch * K]);
  gpu.dispatch({
    kernel: kernel("outputSums"),
    bindings: [g.dy, null, sums],
    params: struct,
    workgroups: ceilDiv(g.batch * K, 64),
  });
  gpu.dispatch({
    kernel: kernel("biasGradient"),
    bindings: [sums, null, g.grads],
    params: struct,
    workgroups: ceilDiv(K, 64),
  });
  for (const t of [u, m, sums]) t.dispose();
}
