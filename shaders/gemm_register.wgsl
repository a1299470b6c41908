// Register-tiled matrix multiply for adapters that run shaders on the CPU (lavapipe/llvmpipe,
// SwiftShader): C[z] = A[z] (M x K) * B[z] (K x N), the same product as gemm.wgsl, through the
// same accessors. There, every storage load is a loop over the SIMD lanes costing a hundred
// times an FMA (a vec4 costs less than twice a float), and workgroup memory and barriers cost
// as much again, so this core trades both for aligned vec4 loads and large per-invocation
// tiles:
//
//   1. gemmPack copies A or B (override GEMM_PACK_B), through the vector accessors
//        fn gemm_a4(z: u32, mq: u32, k: u32) -> vec4<f32>  A[4mq .. 4mq+3, k], 0 past M
//        fn gemm_b4(z: u32, k: u32, nq: u32) -> vec4<f32>  B[k, 4nq .. 4nq+3], 0 past N
//      into packed scratch arrays of vec4: row k of slice z holds A[., k] (B[k, .]) padded
//      to whole tiles, so that the product reads each value with one aligned vec4 load.
//      Layers may pack B in a layout of their own instead (GEMM_B_CUSTOM), and for the "dot"
//      form read A in place;
//   2. gemm / gemmPartial (generated per tile shape by src/nn/gemm_register.ts, appended to
//      this file) give every invocation a TM x TN block of C with no workgroup memory. The
//      "outer" form loads TM/4 + TN/4 vec4s per k (along M and N) and does TM x TN FMAs; the
//      "dot" form loads TM + TN vec4s per four k (along K) and does TM x TN four-term dot
//      products. Either way every output is one chain of FMAs over k ascending, and is
//      stored through gemm_store, or into gemmPartials for a split K;
//   3. gemmSum adds the partials of a split K in split order, as gemm.wgsl does.
//
// The includer defines gemm_shape, gemm_a, gemm_b, gemm_store (unused here except gemm_store
// and gemm_shape), gemm_a4, gemm_b4, and for layouts of its own gemm_b_pack, gemm_b_row,
// gemm_b_col, gemm_dot_a_k, gemm_dot_a_m, gemm_dot_b_k and gemm_dot_b_n (stubs where unused);
// for products generated with a vector store (RegisterStore in gemm_register.ts), GemmRow,
// gemm_row and gemm_store4 ("rows4") or GemmColumns, gemm_columns and gemm_store_columns
// ("columns4"): what the stores of a row or of four columns share is loaded once for all.
// A product invocation loops at most kChunk times (lavapipe stops an invocation after 65,535
// loop iterations); the packing kernels do not loop. The host (src/nn/gemm.ts) cuts products
// whose packed operands exceed a binding into pieces of whole splits of K, rows and columns.
// Bindings of the core: 11 partials, 15/16 packed A/B (read), 17 packing output, 18 GemmRegister,
// 19/20 B/A as textures (product kernels generated to read them so).

struct GemmRegister {
  aRow: u32, // vec4s per packed row of A (M padded to whole tiles, / 4)
  bRow: u32, // vec4s per packed row of B
  aSlice: u32, // vec4s between slices of packed A; 0 when every slice shares A
  bSlice: u32,
  blocksM: u32, // tiles of C along M (the fast index of a tile number)
  blocks: u32, // tiles of C per slice
  m0: u32, // first row of C (and of A) of this piece
  n0: u32, // first column of C (and of B) of this piece, a multiple of 4
  k0: u32, // first k of this piece
  kLen: u32, // k of this piece; packed rows are k - k0
  packWidth: u32, // vec4s per packed row of a packing dispatch (aRow, bRow or custom)
  packSlice: u32, // vec4s per slice of a packing dispatch's output
  packRow: u32, // first packed row a packing dispatch writes
  packCount: u32, // vec4s per slice a packing dispatch writes
  blockBase: u32, // first tile of a product dispatch
  splitBase: u32, // first split of K of this piece
  splitCount: u32, // splits of this piece: product dispatch z = slice * splitCount + split
}

@group(0) @binding(15) var<storage, read> gemmPackedA: array<vec4<f32>>;
@group(0) @binding(16) var<storage, read> gemmPackedB: array<vec4<f32>>;
@group(0) @binding(17) var<storage, read_write> gemmPackOut: array<vec4<f32>>;
@group(0) @binding(18) var<uniform> gemmReg: GemmRegister;

// Product kernels may read A or B from a texture holding the same vec4s, 1 << GEMM_TEXEL_SHIFT
// per row (the host copies the array in): llvmpipe loads a texel per lane for much less than a
// storage vec4 (bench/gemm_limits.ts), and the arithmetic is the same.
@group(0) @binding(19) var gemmTexturedB: texture_2d<f32>;
@group(0) @binding(20) var gemmTexturedA: texture_2d<f32>;
override GEMM_TEXEL_SHIFT: u32 = 12u;

fn gemm_texel_at(i: u32) -> vec2<u32> {
  return vec2<u32>(i & ((1u << GEMM_TEXEL_SHIFT) - 1u), i >> GEMM_TEXEL_SHIFT);
}

fn gemm_texel_a(i: u32) -> vec4<f32> {
  return textureLoad(gemmTexturedA, gemm_texel_at(i), 0);
}

fn gemm_texel_b(i: u32) -> vec4<f32> {
  return textureLoad(gemmTexturedB, gemm_texel_at(i), 0);
}

// Which operand gemmPack packs: 0 for A, 1 for B. One entry point reads both accessors (the
// other branch folds away) so that it binds exactly what the tiled core's gemm binds for loads.
override GEMM_PACK_B: u32 = 0u;

// Slices each invocation of the single-split product takes in turn (dispatch z counts groups of
// them): slices that read one operand in a layout interleaving them then find it in cache.
override GEMM_SLICES_PER: u32 = 1u;

// 1: B is packed in the includer's own layout instead of row by row: vec4 (row, q) of the
// packed array (q < packWidth) is gemm_b_pack(z, row, q), and B[k, 4nq .. 4nq+3] sits at
// gemm_b_row(z, k) + gemm_b_col(z, nq) within slice z (in the "dot" form, B[4kq .., n] at
// gemm_dot_b_k(z, kq) + gemm_dot_b_n(z, n)). A convolution packs shifted rows of its input
// this way, a third of the size of the unfolded im2col matrix.
override GEMM_B_CUSTOM: u32 = 0u;

// The part of the packed index of B[k, 4nq ..] that depends on k: once per k and invocation.
fn gemm_reg_brow(z: u32, k: u32) -> u32 {
  if (GEMM_B_CUSTOM != 0u) {
    return gemm_b_row(z, k);
  }
  return (k - gemmReg.k0) * gemmReg.bRow;
}

// The part that depends on the vec4 column nq of the piece (and the slice): once per
// invocation. The includer's layout holds all of B, so its column is n0 / 4 + nq.
fn gemm_reg_bcol(z: u32, nq: u32) -> u32 {
  if (GEMM_B_CUSTOM != 0u) {
    return z * gemmReg.bSlice + gemm_b_col(z, gemmReg.n0 / 4u + nq);
  }
  return z * gemmReg.bSlice + nq;
}

// Packing: one invocation per vec4 of rows packRow .. of the piece, slice wid.z, in
// workgroups of 64 folded past 65,535.
@compute @workgroup_size(64)
fn gemmPack(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let r = gemmReg;
  let t = invocation_index(wg, 64u, lid);
  if (t >= r.packCount) {
    return;
  }
  let row = r.packRow + t / r.packWidth;
  let q = t % r.packWidth;
  let at = wg.id.z * r.packSlice + row * r.packWidth + q;
  if (GEMM_PACK_B == 0u) {
    gemmPackOut[at] = gemm_a4(wg.id.z, r.m0 / 4u + q, r.k0 + row);
  } else if (GEMM_B_CUSTOM != 0u) {
    gemmPackOut[at] = gemm_b_pack(wg.id.z, row, q);
  } else {
    gemmPackOut[at] = gemm_b4(wg.id.z, r.k0 + row, r.n0 / 4u + q);
  }
}
