/**
 * Host side of the matrix multiply under dense and conv2d layers: picks the core for the
 * adapter, the split of K, records the dispatches and the split sum. Layers supply the shader
 * that defines the operands (gemm_shape, gemm_a, gemm_b, gemm_store and the vector accessors
 * gemm_a4, gemm_b4), assembled with whichever core is chosen.
 *
 * Two cores compute the same products:
 * - "tiled" (`shaders/gemm.wgsl`): workgroups stage 64x64 tiles of A and B in workgroup memory;
 *   the usual choice on GPUs;
 * - "register" (`shaders/gemm_register.wgsl` + kernels generated in gemm_register.ts): the
 *   operands are packed into vec4 scratch arrays and every invocation accumulates a 16x16
 *   (or smaller) block in registers, with no workgroup memory. On adapters that run shaders on
 *   the CPU (lavapipe/llvmpipe, SwiftShader), where every storage load is a loop over SIMD
 *   lanes and barriers switch coroutines, it is several times faster.
 *
 * The adapter picks the core (software adapters get "register"); `setGemmVariant` overrides it.
 * Every output is a sum over k in ascending order within each split of K, splits added in
 * order, so results are deterministic for a given core.
 * @module
 */
import { isSoftwareAdapter } from "../gpu/adapter.ts";
import type { Gpu, GpuBufferView } from "../gpu/gpu.ts";
import { type Uniforms, type UniformStruct, uniformStruct } from "../gpu/uniforms.ts";
import { type ShaderSource, wgsl } from "../gpu/shader.ts";
import { ceilDiv, foldWorkgroups } from "../gpu/workgroups.ts";
import { Tensor } from "../tensor.ts";
import { gemmSumShader } from "./gemm_sum.ts";
import {
  registerCore,
  type RegisterForm,
  type RegisterStore,
  type RegisterTile,
} from "./gemm_register.ts";
import { invocationShader } from "../gpu/invocation.ts";
import source from "../../shaders/gemm.wgsl" with { type: "text" };

/** The workgroup-memory GEMM core. */
export const gemmShader: ShaderSource = wgsl(
  "shaders/gemm.wgsl",
  source,
  invocationShader,
  gemmSumShader,
);

/** Tile of C per workgroup and depth of a staged slice (the constants of gemm.wgsl). */
export const GEMM_TILE = { rows: 64, cols: 64, depth: 16 } as const;

/**
 * The fields every layer's GEMM struct begins with, as gemm_shape() reads them; a layer's
 * struct extends it with its own (`GEMM_SHAPE.extend("Params", {...})`).
 */
export const GEMM_SHAPE = uniformStruct("GemmShape", {
  m: "u32",
  n: "u32",
  k: "u32",
  splits: "u32",
  kChunk: "u32",
});

/** Most of K one invocation covers; longer K is split and the partial tiles summed. */
export const K_CHUNK = 8192;

/** Which core records the products. */
export type GemmVariant = "tiled" | "register";

/**
 * The register core's vector accessors split indices with float division, exact below 2^22:
 * products with a larger M, N or K use the tiled core.
 */
export const REGISTER_MAX_DIM = 2 ** 22;

/** The core for an adapter: "register" for software adapters, "tiled" otherwise. */
export function defaultGemmVariant(adapter: string): GemmVariant {
  return isSoftwareAdapter(adapter) ? "register" : "tiled";
}

const chosen = new WeakMap<Gpu, GemmVariant>();

/** Overrides the core used on `gpu` (undefined restores the adapter's default). */
export function setGemmVariant(gpu: Gpu, variant: GemmVariant | undefined): void {
  if (variant === undefined) chosen.delete(gpu);
  else chosen.set(gpu, variant);
}

/** The core used on `gpu`. */
export function gemmVariant(gpu: Gpu): GemmVariant {
  return chosen.get(gpu) ?? defaultGemmVariant(gpu.adapter);
}

/** One matrix product of a layer. */
export interface GemmCall {
  /** The layer's shader assembled with the given core (and anything else it needs). */
  shader: (core: ShaderSource) => ShaderSource;
  /** Values of the layer shader's override constants. */
  constants?: Record<string, number>;
  m: number;
  n: number;
  k: number;
  /** Independent products (dispatch z), e.g. parameter points. */
  slices: number;
  /** A (or B) is the same for every slice, so the register core packs it once. */
  sharedA?: boolean;
  /** See sharedA. */
  sharedB?: boolean;
  /**
   * The layer's own operand layouts for the register core, used when the product runs in one
   * piece (otherwise A and B are packed row by row through gemm_a4 and gemm_b4):
   * - packB: B packed by gemm_b_pack into `rows` x `width` vec4s per slice (GEMM_B_CUSTOM in
   *   gemm_register.wgsl), read at gemm_b_index ("outer" form) or gemm_dot_b ("dot"); with
   *   `everySlice`, one operand of `rows` x `width` holds every slice and the accessors pick
   *   the slice from z (when the layout cannot be used, B is packed slice by slice);
   * - form "dot" (needs packB and directA): vec4s along K, A read straight from `directA` at
   *   gemm_dot_a; both layouts must hold zeros for k >= K in the last vec4;
   * - keepB: return B as packed in the packB layout (when it was) instead of freeing it, so
   *   that a later product over the same operand can pass it as `packedB` and skip packing;
   * - packedA ("outer" form): A already in the core's packed layout for a product in one
   *   piece (row k of slice z: M / 4 vec4s), used where the plan has one piece and M is a
   *   whole number of tiles; otherwise A is packed as usual;
   * - slicesPer: slices each invocation of a single-split product takes in turn (a divisor
   *   of `slices`; GEMM_SLICES_PER in gemm_register.wgsl), for layouts that interleave them.
   */
  register?: {
    form?: RegisterForm;
    /** How the single-split product stores C (RegisterStore; default "scalar"). */
    store?: RegisterStore;
    /** The tile per invocation, where the layer measured a better one than registerTile's. */
    tile?: RegisterTile;
    packB?: PackB;
    directA?: GpuBufferView;
    keepB?: boolean;
    packedB?: Tensor | null;
    packedA?: Tensor;
    slicesPer?: number;
  };
  /** The layer shader's uniform struct: {@link GEMM_SHAPE} extended with the layer's fields. */
  struct: UniformStruct;
  /** Values of the layer's own fields (those after GEMM_SHAPE's), by name. */
  fields: Readonly<Record<string, number>>;
  /**
   * What gemm_a and gemm_b (and gemm_a4, gemm_b4) read, from @binding(1) (null for numbers
   * they do not use; index 10, binding 11, and bindings 15-18 are the cores'). A pipeline binds
   * exactly what its entry point uses, and the split kernels use only the loads or the store.
   */
  loadBindings: readonly (GpuBufferView | Uniforms | null)[];
  /** What gemm_store uses, likewise. */
  storeBindings: readonly (GpuBufferView | Uniforms | null)[];
}

type Binding = GpuBufferView | Uniforms | GPUTextureView | null;

/** B in the layer's own layout (GemmCall.register.packB). */
interface PackB {
  rows: number;
  width: number;
  /** One operand holds every slice; the includer's accessors index it by z. */
  everySlice?: boolean;
}

/** The operand layouts a register product uses (see GemmCall.register). */
interface Layouts {
  form: RegisterForm;
  packB?: PackB;
  directA?: GpuBufferView;
}

/**
 * Slices of B the register core packs and steps through: one where B is shared, or held whole
 * in the layer's layout `packB` (the one it uses, if any).
 */
function bSlicesOf(call: GemmCall, packB: PackB | undefined): number {
  return call.sharedB || packB?.everySlice ? 1 : call.slices;
}

type Bindings = readonly Binding[];

function merge(a: Bindings, b: Bindings): Binding[] {
  return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => a[i] ?? b[i] ?? null);
}

/** Copies `b` with `extra[i]` placed at index i (binding i + 1). */
function withAt(b: Bindings, extra: Record<number, Binding>): Binding[] {
  const out = [...b];
  for (const [i, v] of Object.entries(extra)) {
    while (out.length <= Number(i)) out.push(null);
    out[Number(i)] = v;
  }
  return out;
}

/**
 * Records C = A * B for every slice with the core chosen for `gpu`. Returns B packed in the
 * layer's layout when `call.register.keepB` asked for it and the register core packed it so
 * (the caller owns it), else null.
 */
export function recordGemm(gpu: Gpu, call: GemmCall): Tensor | null {
  const { m, n, k, slices } = call;
  if (m === 0 || n === 0 || slices === 0) return null;
  const splits = Math.max(1, ceilDiv(k, K_CHUNK));
  const kChunk = ceilDiv(ceilDiv(k, splits), GEMM_TILE.depth) * GEMM_TILE.depth;
  const p = call.struct.write({ ...call.fields, m, n, k, splits, kChunk });
  const limit = gpu.limits.maxStorageBufferBindingSize;
  const aSlices = call.sharedA ? 1 : slices;
  // The layer's own layouts, where they fit one binding (else everything packs row by row).
  const own = call.register;
  const packB = own?.packB && own.packB.rows < REGISTER_MAX_DIM &&
      bSlicesOf(call, own.packB) * own.packB.rows * own.packB.width * 16 <= limit
    ? own.packB
    : undefined;
  const bSlices = bSlicesOf(call, packB);
  const layouts: Layouts = own?.form === "dot"
    ? (packB && own.directA ? { form: "dot", packB, directA: own.directA } : { form: "outer" })
    : { form: "outer", packB };
  const plan = gemmVariant(gpu) === "register"
    ? planRegister(m, n, k, slices, aSlices, bSlices, limit, {
      fixedA: layouts.directA !== undefined,
      fixedB: layouts.packB !== undefined,
      tile: own?.tile,
    })
    : null;
  if (plan) return recordRegister(gpu, call, p, splits, kChunk, plan, layouts);
  recordTiled(gpu, call, p, splits);
  return null;
}

function recordTiled(gpu: Gpu, call: GemmCall, p: Uniforms, splits: number): void {
  const { m, n, slices } = call;
  const shader = call.shader(gemmShader);
  const [x, y] = foldWorkgroups(
    ceilDiv(n, GEMM_TILE.cols) * ceilDiv(m, GEMM_TILE.rows),
    gpu.limits.maxComputeWorkgroupsPerDimension,
  );
  const tiles: [number, number] = [x, y];
  const kernel = (entryPoint: string) => ({ shader, entryPoint, constants: call.constants });
  if (splits === 1) {
    gpu.dispatch({
      kernel: kernel("gemm"),
      bindings: merge(call.loadBindings, call.storeBindings),
      params: p,
      workgroups: [...tiles, slices],
    });
    return;
  }
  const partials = Tensor.empty(gpu, [slices * splits, m, n]);
  gpu.dispatch({
    kernel: kernel("gemmPartial"),
    bindings: withAt(call.loadBindings, { 10: partials }),
    params: p,
    workgroups: [...tiles, slices * splits],
  });
  gpu.dispatch({
    kernel: kernel("gemmSum"),
    bindings: withAt(call.storeBindings, { 10: partials }),
    params: p,
    workgroups: ceilDiv(slices * m * n, 256),
  });
  partials.dispose();
}

/** Logical CPU cores, a guess at how many threads a software adapter runs (timing only). */
const THREADS = Math.max(
  1,
  (globalThis.navigator as { hardwareConcurrency?: number })
    ?.hardwareConcurrency ?? 4,
);

/**
 * Register tiles offered, with the time LLVM takes to compile one product kernel of each on
 * lavapipe (measured, ms): big tiles run faster but compile much slower (spilled registers).
 */
const TILES: readonly { tm: number; tn: number; compileMs: number }[] = [
  { tm: 32, tn: 16, compileMs: 3400 },
  { tm: 16, tn: 16, compileMs: 1100 },
  { tm: 8, tn: 8, compileMs: 250 },
  { tm: 4, tn: 4, compileMs: 100 },
];

/** Calls a product kernel is assumed to serve, to weigh its compile time against run time. */
const COMPILE_AMORTIZED_OVER = 100;

/**
 * The register tile for a product (`lanesPerTile` = slices x splits): the least estimated
 * time per call, counting per invocation and k 8.75 ns per vec4 load (one per four rows or
 * columns), 0.074 ns per FMA and 3 ns of loop (measured on lavapipe, one core), over as many
 * workgroups as there are threads, plus the compile time shared by COMPILE_AMORTIZED_OVER
 * calls. The choice changes speed only: every tile sums in the same order.
 */
export function registerTile(m: number, n: number, k: number, lanesPerTile: number): RegisterTile {
  let best: RegisterTile = { tm: 4, tn: 4, wg: 64 };
  let bestCost = Infinity;
  for (const { tm, tn, compileMs } of TILES) {
    const blocks = ceilDiv(m, tm) * ceilDiv(n, tn) * lanesPerTile;
    const perInvocationNs = k * (3 + ((tm + tn) / 4) * 8.75 + tm * tn * 0.074) + tm * tn * 10;
    for (const wg of [64, 16]) {
      const rounds = ceilDiv(ceilDiv(blocks, wg), THREADS);
      const cost = rounds * (wg * perInvocationNs + 20_000) / 1e6 +
        compileMs / COMPILE_AMORTIZED_OVER;
      if (cost < bestCost) [best, bestCost] = [{ tm, tn, wg }, cost];
    }
  }
  return best;
}

/** Fields of GemmRegister in gemm_register.wgsl, in order. */
const REGISTER_FIELDS = [
  "aRow",
  "bRow",
  "aSlice",
  "bSlice",
  "blocksM",
  "blocks",
  "m0",
  "n0",
  "k0",
  "kLen",
  "packWidth",
  "packSlice",
  "packRow",
  "packCount",
  "blockBase",
  "splitBase",
  "splitCount",
] as const;
type RegisterField = typeof REGISTER_FIELDS[number];
const GEMM_REGISTER = uniformStruct(
  "GemmRegister",
  Object.fromEntries(REGISTER_FIELDS.map((f) => [f, "u32"])) as Record<RegisterField, "u32">,
);
const REGISTER_ZERO = Object.fromEntries(REGISTER_FIELDS.map((f) => [f, 0])) as Record<
  RegisterField,
  number
>;

/** How the register core covers a product: its tile and the pieces of K, rows and columns. */
export interface RegisterPlan {
  /** Tile per invocation. */
  tile: RegisterTile;
  /** Splits of K per piece (pieces hold whole splits, so pieces never change the sums). */
  splitsPer: number;
  /** Rows of C per piece (a multiple of tm). */
  rows: number;
  /** Columns of C per piece (a multiple of tn). */
  cols: number;
}

/**
 * The register core's plan for an m x n x k product over `slices` slices (A or B packed once
 * when shared), each packed operand within `maxBinding` bytes; null when the register core
 * cannot take it (a dimension past REGISTER_MAX_DIM, or one packed k-range of a single tile
 * larger than a binding), and the tiled core is used. `fixedA` / `fixedB`: the operand is in
 * the layer's own layout, whole for every piece (its size is checked by the caller); `tile`:
 * the layer's tile instead of registerTile's estimate.
 */
export function planRegister(
  m: number,
  n: number,
  k: number,
  slices: number,
  aSlices: number,
  bSlices: number,
  maxBinding: number,
  { fixedA = false, fixedB = false, tile: given }: {
    fixedA?: boolean;
    fixedB?: boolean;
    tile?: RegisterTile;
  } = {},
): RegisterPlan | null {
  if (Math.max(m, n, k) >= REGISTER_MAX_DIM) return null;
  const splits = Math.max(1, ceilDiv(k, K_CHUNK));
  const kChunk = ceilDiv(ceilDiv(k, splits), GEMM_TILE.depth) * GEMM_TILE.depth;
  const tile = given ?? registerTile(m, n, ceilDiv(k, splits), slices * splits);
  let splitsPer = splits;
  let cols = ceilDiv(n, tile.tn) * tile.tn;
  let rows = ceilDiv(m, tile.tm) * tile.tm;
  for (;;) {
    const depth = Math.min(k, splitsPer * kChunk);
    const aFits = fixedA || aSlices * depth * rows * 4 <= maxBinding;
    const bFits = fixedB || bSlices * depth * cols * 4 <= maxBinding;
    if (aFits && bFits) return { tile, splitsPer, rows, cols };
    if (splitsPer > 1) splitsPer = ceilDiv(splitsPer, 2);
    else if (!bFits && cols > tile.tn) cols = ceilDiv(cols / tile.tn, 2) * tile.tn;
    else if (!aFits && rows > tile.tm) rows = ceilDiv(rows / tile.tm, 2) * tile.tm;
    else return null;
  }
}

/** What every dispatch of one register product shares. */
interface RegisterRun {
  gpu: Gpu;
  call: GemmCall;
  /** The layer's uniform struct, at binding 0 of every dispatch. */
  p: Uniforms;
  shader: ShaderSource;
  constants: Record<string, number>;
  /** The product kernels' shader and constants (operands read from textures, or as `shader`). */
  product: { shader: ShaderSource; constants: Record<string, number> };
  aSlices: number;
  bSlices: number;
  /** Workgroups one dispatch may launch (the per-dimension limit, squared). */
  maxWorkgroups: number;
  /** Slices per invocation of the single-split product (GemmCall.register.slicesPer). */
  slicesPer: number;
}

/** The core's GemmRegister struct, fields a dispatch does not use left 0. */
function registerFields(f: Partial<Record<RegisterField, number>>): Uniforms {
  return GEMM_REGISTER.write({ ...REGISTER_ZERO, ...f });
}

/**
 * Packs rows [0, height) of `width` vec4s of A (which 0) or B (1) for `count` slices into
 * `out`, in dispatches of at most maxWorkgroups workgroups.
 */
function recordPack(
  run: RegisterRun,
  which: number,
  out: Tensor,
  height: number,
  width: number,
  count: number,
  piece: Partial<Record<RegisterField, number>>,
): void {
  const maxPerDim = run.gpu.limits.maxComputeWorkgroupsPerDimension;
  const rowsPer = Math.max(1, Math.floor(run.maxWorkgroups * 64 / width));
  for (let r0 = 0; r0 < height; r0 += rowsPer) {
    const packCount = Math.min(rowsPer, height - r0) * width;
    const [x, y] = foldWorkgroups(ceilDiv(packCount, 64), maxPerDim);
    run.gpu.dispatch({
      kernel: {
        shader: run.shader,
        entryPoint: "gemmPack",
        constants: { ...run.constants, GEMM_PACK_B: which },
      },
      bindings: withAt(run.call.loadBindings, {
        16: out,
        17: registerFields({
          ...piece,
          packWidth: width,
          packSlice: height * width,
          packRow: r0,
          packCount,
        }),
      }),
      params: run.p,
      workgroups: [x, y, count],
    });
  }
}

/** One piece of a register product: a range of splits of K, of rows and of columns of C. */
interface RegisterPiece {
  /** GemmRegister fields of the piece. */
  fields: Record<RegisterField, number>;
  /** k0 = 0 and kLen = K, all of M: A as the layer may have packed it. */
  whole: boolean;
}

/** The pieces of a product the plan cuts it into, in order. */
function* registerPieces(
  call: GemmCall,
  kChunk: number,
  splits: number,
  plan: RegisterPlan,
  slices: { aSlices: number; bSlices: number; direct: boolean; bTexels: number | null },
): Generator<RegisterPiece> {
  const { m, n, k } = call;
  const { tile, splitsPer, rows, cols } = plan;
  for (let s0 = 0; s0 < splits; s0 += splitsPer) {
    const splitCount = Math.min(splitsPer, splits - s0);
    const k0 = s0 * kChunk;
    const kLen = Math.min(k, (s0 + splitCount) * kChunk) - k0;
    for (let m0 = 0; m0 < m; m0 += rows) {
      const mRows = Math.min(rows, ceilDiv(m - m0, tile.tm) * tile.tm);
      for (let n0 = 0; n0 < n; n0 += cols) {
        const nCols = Math.min(cols, ceilDiv(n - n0, tile.tn) * tile.tn);
        const aRow = mRows / 4, bRow = nCols / 4;
        const blocksM = mRows / tile.tm;
        const fields = {
          ...REGISTER_ZERO,
          aRow,
          bRow,
          aSlice: slices.aSlices === 1 || slices.direct ? 0 : kLen * aRow,
          bSlice: slices.bSlices === 1 ? 0 : slices.bTexels ?? kLen * bRow,
          blocksM,
          blocks: blocksM * (nCols / tile.tn),
          m0,
          n0,
          k0,
          kLen,
          splitBase: s0,
          splitCount,
        };
        yield { fields, whole: m0 === 0 && mRows === m && k0 === 0 && kLen === k };
      }
    }
  }
}

/** Texels per row of a texture copy of an operand: 4096, or what the device allows. */
const TEXEL_ROW = 4096;

/** Loads of each texel, at least, for a product to read an operand from a texture copy. */
const TEXEL_READS = 8;

/** log2 of the row width of texture copies: TEXEL_ROW texels, or what the device allows. */
export function texelShift(limits: { maxTextureDimension2D: number }): number {
  return Math.floor(Math.log2(Math.min(TEXEL_ROW, limits.maxTextureDimension2D)));
}

/**
 * log2 of the row width of texture copies of operands on `gpu`, or null where products read
 * their operands from storage buffers: adapters other than software ones (whose cheaper
 * texture loads are what pays for the copy, see gemm_register.wgsl), or a device whose
 * maxTextureDimension2D is below 16.
 */
function texelRowShift(gpu: Gpu): number | null {
  if (!isSoftwareAdapter(gpu.adapter)) return null;
  const shift = texelShift(gpu.limits);
  return shift < 4 ? null : shift;
}

/**
 * Whether a product reads an operand of `bytes` (at `offset`) from a texture copy with rows of
 * 2^shift texels: each texel is loaded at least TEXEL_READS times (once per tile of C along
 * the other side, `reads`) and the rows fit the device's maxTextureDimension2D.
 */
function texelsPay(gpu: Gpu, shift: number | null, bytes: number, offset: number, reads: number) {
  return shift !== null && reads >= TEXEL_READS && bytes % 16 === 0 && offset % 16 === 0 &&
    Math.ceil(bytes / 16 / 2 ** shift) <= gpu.limits.maxTextureDimension2D;
}

/** Launches the product kernels of one piece over its blocks of C. */
function recordProduct(
  run: RegisterRun,
  tile: RegisterTile,
  piece: Record<RegisterField, number>,
  operands: Record<number, Binding>,
  partials: Tensor | null,
): void {
  const maxPerDim = run.gpu.limits.maxComputeWorkgroupsPerDimension;
  const blocksPer = run.maxWorkgroups * tile.wg;
  for (let blockBase = 0; blockBase < piece.blocks; blockBase += blocksPer) {
    const [x, y] = foldWorkgroups(
      ceilDiv(Math.min(blocksPer, piece.blocks - blockBase), tile.wg),
      maxPerDim,
    );
    run.gpu.dispatch({
      kernel: { ...run.product, entryPoint: partials ? "gemmPartial" : "gemm" },
      bindings: withAt(partials ? [] : run.call.storeBindings, {
        ...operands,
        ...(partials ? { 10: partials } : {}),
        17: registerFields({ ...piece, blockBase }),
      } as Record<number, Binding>),
      params: run.p,
      workgroups: [
        x,
        y,
        partials ? run.call.slices * piece.splitCount : run.call.slices / run.slicesPer,
      ],
    });
  }
}

/**
 * Records a product on the register core: B packed once in the layer's layout (or as the
 * caller passed it), then for every piece of the plan A and B packed (unless given or read in
 * place) and the product kernels, and the split sum. Returns B packed when the caller keeps it.
 */
function recordRegister(
  gpu: Gpu,
  call: GemmCall,
  p: Uniforms,
  splits: number,
  kChunk: number,
  plan: RegisterPlan,
  { form, packB, directA }: Layouts,
): Tensor | null {
  const { m, n, k, slices } = call;
  const maxPerDim = gpu.limits.maxComputeWorkgroupsPerDimension;
  const store = call.register?.store ?? "scalar";
  const constants = { ...call.constants, GEMM_B_CUSTOM: packB ? 1 : 0 };
  const aSlices = call.sharedA ? 1 : slices, bSlices = bSlicesOf(call, packB);
  // B in the layer's layout is packed once, whole, for every piece (or was packed before).
  const bTexels = packB ? packB.rows * packB.width : 0;
  const bSize = Math.max(1, bSlices * bTexels) * 4;
  const given = packB && call.register?.packedB?.size === bSize ? call.register.packedB : null;
  const shift = texelRowShift(gpu);
  const texels = {
    a: directA !== undefined &&
      texelsPay(gpu, shift, directA.byteLength, directA.byteOffset, ceilDiv(n, plan.tile.tn)),
    b: packB !== undefined && texelsPay(gpu, shift, bSize * 4, 0, ceilDiv(m, plan.tile.tm)),
  };
  const shader = call.shader(registerCore(plan.tile, form, store));
  const slicesPer = splits === 1 ? call.register?.slicesPer ?? 1 : 1;
  if (slices % slicesPer !== 0) {
    throw new RangeError(`slicesPer ${slicesPer} does not divide the product's ${slices} slices`);
  }
  const productConstants = { ...constants, GEMM_SLICES_PER: slicesPer };
  const run: RegisterRun = {
    gpu,
    call,
    p,
    shader,
    constants,
    product: !texels.a && !texels.b ? { shader, constants: productConstants } : {
      shader: call.shader(registerCore(plan.tile, form, store, texels)),
      constants: { ...productConstants, GEMM_TEXEL_SHIFT: shift! },
    },
    slicesPer,
    aSlices,
    bSlices,
    maxWorkgroups: maxPerDim * maxPerDim,
  };
  const wholeB = given ?? (packB ? Tensor.empty(gpu, [bSize]) : null);
  if (wholeB && packB && !given) recordPack(run, 1, wholeB, packB.rows, packB.width, bSlices, {});
  const texturedB = texels.b ? gpu.textureCopy(wholeB!, 2 ** shift!) : null;
  const texturedA = texels.a ? gpu.textureCopy(directA!, 2 ** shift!) : null;

  const partials = splits > 1 ? Tensor.empty(gpu, [slices * splits, m, n]) : null;
  const pieces = registerPieces(call, kChunk, splits, plan, {
    aSlices,
    bSlices,
    direct: directA !== undefined,
    bTexels: wholeB ? bTexels : null,
  });
  for (const { fields: piece, whole } of pieces) {
    const { aRow, bRow, kLen } = piece;
    const givenA = !directA && whole && call.register?.packedA?.size === aSlices * k * m
      ? call.register.packedA
      : null;
    const packedA = directA || givenA
      ? null
      : Tensor.empty(gpu, [Math.max(1, aSlices * kLen * aRow) * 4]);
    if (packedA) recordPack(run, 0, packedA, kLen, aRow, aSlices, piece);
    const packedB = wholeB ? null : Tensor.empty(gpu, [Math.max(1, bSlices * kLen * bRow) * 4]);
    if (packedB) recordPack(run, 1, packedB, kLen, bRow, bSlices, piece);
    const operands = {
      ...(texturedA ? { 19: texturedA.view } : { 14: packedA ?? givenA ?? directA! }),
      ...(texturedB ? { 18: texturedB.view } : { 15: packedB ?? wholeB! }),
    };
    recordProduct(run, plan.tile, piece, operands, partials);
    packedA?.dispose();
    packedB?.dispose();
  }
  texturedA?.release();
  texturedB?.release();
  if (partials) {
    gpu.dispatch({
      kernel: { shader: run.shader, entryPoint: "gemmSum", constants: run.constants },
      bindings: withAt(call.storeBindings, { 10: partials }),
      params: p,
      workgroups: ceilDiv(slices * m * n, 256),
    });
    partials.dispose();
  }
  if (given) return null;
  if (call.register?.keepB) return wholeB;
  wholeB?.dispose();
  return null;
}
