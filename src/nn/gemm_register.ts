/**
 * The register-tiled GEMM variant (`shaders/gemm_register.wgsl`): its product kernels are
 * generated here per tile shape, fully unrolled, because shader compilers do not unroll loops
 * over override-sized arrays reliably, and an array indexed by a loop counter that is not
 * unrolled lands in scratch memory (on lavapipe, a per-lane loop per access).
 * @module
 */
import { type ShaderSource, wgsl } from "../gpu/shader.ts";
import { gemmSumShader } from "./gemm_sum.ts";
import { invocationShader } from "../gpu/invocation.ts";
import source from "../../shaders/gemm_register.wgsl" with { type: "text" };

/** The static part of the register core: bindings, packing kernels and the split sum. */
export const registerCoreShader: ShaderSource = wgsl(
  "shaders/gemm_register.wgsl",
  source,
  invocationShader,
  gemmSumShader,
);

/** A tile of C per invocation and the workgroup size of the product kernels. */
export interface RegisterTile {
  /** Rows of C per invocation (a multiple of 4). */
  tm: number;
  /** Columns of C per invocation (a multiple of 4). */
  tn: number;
  /** Invocations per workgroup. */
  wg: number;
}

/**
 * How the product kernels read the packed operands:
 * - "outer": vec4s along M (of A) and N (of B); per k, TM x TN scalar-times-vec4 FMAs;
 * - "dot": vec4s along K of both, A read in place at gemm_dot_a_k + gemm_dot_a_m, B packed
 *   at gemm_dot_b_k + gemm_dot_b_n; per four k, TM x TN dot products (four FMAs each, k
 *   ascending).
 */
export type RegisterForm = "outer" | "dot";

/** Which operands the product kernels read from texture copies (bindings 20 and 19). */
export interface Texels {
  /** A, at gemmPackedA's indices (packed, or in the layer's layout for the "dot" form). */
  a: boolean;
  /** Packed B, at gemmPackedB's indices. */
  b: boolean;
}

/**
 * How a single-split product stores C:
 * - "scalar": one value at a time through gemm_store(z, m, n, v);
 * - "rows4": rows of C padded to whole vec4s; per row `let row = gemm_row(z, m)` (the
 *   includer's GemmRow: what every store of the row shares, loaded once), then four columns
 *   at once through gemm_store4(z, m, n, v, row);
 * - "columns4": per four columns `gemm_columns(z, n)` (the includer's GemmColumns, loaded
 *   once for columns n .. n + 3), then gemm_store_columns(z, m, n, v, columns) per row (the
 *   includer's layout must hold the four columns, as rows padded to whole vec4s do).
 */
export type RegisterStore = "scalar" | "rows4" | "columns4";

const XYZW = "xyzw";

function productKernel(
  entry: "gemm" | "gemmPartial",
  { tm, tn, wg }: RegisterTile,
  form: RegisterForm,
  store: RegisterStore,
  texels: Texels,
): string {
  const am = tm / 4, bn = tn / 4;
  const loadA = (index: string) => texels.a ? `gemm_texel_a(${index})` : `gemmPackedA[${index}]`;
  const loadB = (index: string) => texels.b ? `gemm_texel_b(${index})` : `gemmPackedB[${index}]`;
  const lines: string[] = [];
  const add = (s: string) => lines.push(s);
  add(`@compute @workgroup_size(${wg})`);
  add(`fn ${entry}(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {`);
  add(`  let s = gemm_shape();`);
  add(`  let r = gemmReg;`);
  add(`  let b = r.blockBase + invocation_index(wg, ${wg}u, lid);`);
  add(`  if (b >= r.blocks) {`);
  add(`    return;`);
  add(`  }`);
  // The single-split product loops over GEMM_SLICES_PER slices (closed by `end`).
  if (entry === "gemm") {
    add(`  for (var zi = 0u; zi < GEMM_SLICES_PER; zi++) {`);
    add(`  let z = wg.id.z * GEMM_SLICES_PER + zi;`);
  } else {
    add(`  let z = wg.id.z / r.splitCount;`);
  }
  const end = () => {
    if (entry === "gemm") add(`  }`);
    add(`}`);
    return lines.join("\n") + "\n";
  };
  add(`  let split = r.splitBase + wg.id.z % r.splitCount;`);
  add(`  let kBegin = max(split * s.kChunk, r.k0);`);
  add(`  let kEnd = min(min(s.k, (split + 1u) * s.kChunk), r.k0 + r.kLen);`);
  add(`  let mq = (b % r.blocksM) * ${am}u;`);
  add(`  let nq = (b / r.blocksM) * ${bn}u;`);
  add(`  let m = r.m0 + mq * 4u;`);
  add(`  let n = r.n0 + nq * 4u;`);
  // acc(i, j) names the accumulator of C[m + i, n + j].
  let acc: (i: number, j: number) => string;
  if (form === "outer") {
    acc = (i, j) => `c${i}_${j >> 2}.${XYZW[j & 3]}`;
    add(`  var ia = z * r.aSlice + (kBegin - r.k0) * r.aRow + mq;`);
    for (let j = 0; j < bn; j++) add(`  let ib${j} = gemm_reg_bcol(z, nq${j ? ` + ${j}u` : ""});`);
    for (let i = 0; i < tm; i++) {
      for (let j = 0; j < bn; j++) add(`  var c${i}_${j} = vec4<f32>(0.0);`);
    }
    add(`  for (var k = kBegin; k < kEnd; k++) {`);
    for (let i = 0; i < am; i++) add(`    let a${i} = ${loadA(`ia${i ? ` + ${i}u` : ""}`)};`);
    add(`    let ib = gemm_reg_brow(z, k);`);
    for (let j = 0; j < bn; j++) add(`    let b${j} = ${loadB(`ib + ib${j}`)};`);
    add(`    ia += r.aRow;`);
    for (let i = 0; i < tm; i++) {
      for (let j = 0; j < bn; j++) {
        add(`    c${i}_${j} = fma(vec4<f32>(a${i >> 2}.${XYZW[i & 3]}), b${j}, c${i}_${j});`);
      }
    }
  } else {
    acc = (i, j) => `c${i}_${j}`;
    for (let i = 0; i < tm; i++) {
      for (let j = 0; j < tn; j++) add(`  var c${i}_${j} = 0.0;`);
    }
    const plus = (v: number) => v ? ` + ${v}u` : "";
    for (let i = 0; i < tm; i++) add(`  let ia${i} = gemm_dot_a_m(z, m${plus(i)});`);
    for (let j = 0; j < tn; j++) {
      add(`  let ib${j} = z * r.bSlice + gemm_dot_b_n(z, n${plus(j)});`);
    }
    add(`  for (var kq = kBegin / 4u; kq < (kEnd + 3u) / 4u; kq++) {`);
    add(`    let ia = gemm_dot_a_k(z, kq);`);
    add(`    let ib = gemm_dot_b_k(z, kq);`);
    for (let i = 0; i < tm; i++) add(`    let a${i} = ${loadA(`ia + ia${i}`)};`);
    for (let j = 0; j < tn; j++) add(`    let b${j} = ${loadB(`ib + ib${j}`)};`);
    for (let i = 0; i < tm; i++) {
      for (let j = 0; j < tn; j++) {
        let sum = `c${i}_${j}`;
        for (const e of XYZW) sum = `fma(a${i}.${e}, b${j}.${e}, ${sum})`;
        add(`    c${i}_${j} = ${sum};`);
      }
    }
  }
  add(`  }`);
  if (entry === "gemmPartial") add(`  let base = (z * s.splits + split) * s.m;`);
  const quad = (i: number, j: number) =>
    `vec4<f32>(${[0, 1, 2, 3].map((e) => acc(i, j + e)).join(", ")})`;
  if (entry === "gemm" && store === "rows4") {
    // Rows of C padded to whole vec4s: four columns per store.
    for (let i = 0; i < tm; i++) {
      add(`  if (m + ${i}u < s.m) {`);
      add(`    let row${i} = gemm_row(z, m + ${i}u);`);
      for (let j = 0; j < tn; j += 4) {
        add(`    if (n + ${j}u < s.n) {`);
        add(`      gemm_store4(z, m + ${i}u, n + ${j}u, ${quad(i, j)}, row${i});`);
        add(`    }`);
      }
      add(`  }`);
    }
    return end();
  }
  if (entry === "gemm" && store === "columns4") {
    for (let j = 0; j < tn; j += 4) {
      add(`  if (n + ${j}u < s.n) {`);
      add(`    let columns = gemm_columns(z, n + ${j}u);`);
      for (let i = 0; i < tm; i++) {
        add(`    if (m + ${i}u < s.m) {`);
        add(`      gemm_store_columns(z, m + ${i}u, n + ${j}u, ${quad(i, j)}, columns);`);
        add(`    }`);
      }
      add(`  }`);
    }
    return end();
  }
  for (let i = 0; i < tm; i++) {
    add(`  if (m + ${i}u < s.m) {`);
    for (let j = 0; j < tn; j++) {
      const col = `n + ${j}u`;
      const put = entry === "gemm"
        ? `gemm_store(z, m + ${i}u, ${col}, ${acc(i, j)});`
        : `gemmPartials[(base + m + ${i}u) * s.n + ${col}] = ${acc(i, j)};`;
      add(`    if (${col} < s.n) {`);
      add(`      ${put}`);
      add(`    }`);
    }
    add(`  }`);
  }
  return end();
}

const cores = new Map<string, ShaderSource>();

/**
 * The register core with product kernels for one tile shape and form (cached); its
 * single-split product stores as `store` says (see RegisterStore); with `texels` its product
 * kernels read A or B through `gemm_texel_a` / `gemm_texel_b`.
 */
export function registerCore(
  tile: RegisterTile,
  form: RegisterForm = "outer",
  store: RegisterStore = "scalar",
  texels: Texels = { a: false, b: false },
): ShaderSource {
  const key = `${tile.tm}x${tile.tn}@${tile.wg}${form === "dot" ? " dot" : ""}${
    store === "scalar" ? "" : ` ${store}`
  }${texels.a ? " texels A" : ""}${texels.b ? " texels B" : ""}`;
  let core = cores.get(key);
  if (!core) {
    const code = `// Generated by src/nn/gemm_register.ts: ${key}.\n` +
      productKernel("gemm", tile, form, store, texels) +
      productKernel("gemmPartial", tile, form, "scalar", texels);
    core = wgsl(`src/nn/gemm_register.ts (${key})`, code, registerCoreShader);
    cores.set(key, core);
  }
  return core;
}
