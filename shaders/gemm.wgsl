// Tiled matrix multiply, the machinery under dense and conv2d layers (forward and both
// gradients): C[z] = A[z] (M x K) * B[z] (K x N) for every batch slice z.
//
// The file that includes this one says what A, B and C are, by defining
//   fn gemm_shape() -> GemmShape
//   fn gemm_a(z: u32, m: u32, k: u32) -> f32      called with m < M, k < K only
//   fn gemm_b(z: u32, k: u32, n: u32) -> f32      called with k < K, n < N only
//   fn gemm_store(z: u32, m: u32, n: u32, v: f32) called with m < M, n < N only
// so transposes, im2col gathers, bias columns and output layouts are folded into indexing and
// nothing is copied. Each workgroup computes a BM x BN tile of C: it stages BK-deep slices of
// A and B in workgroup memory and every invocation accumulates a TM x TN block in registers.
//
// Tiles are numbered row-major over C and the count is folded into two dispatch dimensions
// (tile = wid.x + wid.y * nwg.x), so any M and N fit the 65,535-per-dimension limit.
//
// Long K is split: dispatch z = slice * splits + split, each split covering kChunk of K. With
// one split `gemm` stores through gemm_store; otherwise `gemmPartial` writes partial tiles to
// `gemmPartials` and `gemmSum` adds them up and stores. kChunk bounds every invocation's loop
// count, so lavapipe's 65,535-iteration cap is never reached whatever K is.

const TM: u32 = 4u; // rows of C per invocation
const TN: u32 = 4u; // columns of C per invocation (one vec4)
const WGX: u32 = 16u; // invocations along N
const WGY: u32 = 16u; // invocations along M
const BK: u32 = 16u; // depth of a staged slice
const BM: u32 = WGY * TM;
const BN: u32 = WGX * TN;
const THREADS: u32 = WGX * WGY;

var<workgroup> tileA: array<vec4<f32>, BK * BM / 4u>; // [kk][m], four rows per vec4
var<workgroup> tileB: array<vec4<f32>, BK * BN / 4u>; // [kk][n], four columns per vec4

// The TM x TN block of invocation `lid` in the tile at (row0, col0) of slice z, over K
// range [k0, k1). Must be called in uniform control flow (it synchronises the workgroup).
fn gemm_block(z: u32, row0: u32, col0: u32, k0: u32, k1: u32, lid: vec3<u32>, li: u32) -> array<vec4<f32>, TM> {
  let s = gemm_shape();
  var acc: array<vec4<f32>, TM>;
  for (var kt = k0; kt < k1; kt += BK) {
    // Stage A[row0 .. row0+BM, kt .. kt+BK] as [kk][m] and B[kt .., col0 ..] as [kk][n].
    for (var r = 0u; r < BK * BM / THREADS; r++) {
      let e = r * THREADS + li;
      let mm = e / BK;
      let kk = e % BK;
      let m = row0 + mm;
      let k = kt + kk;
      var v = 0.0;
      if (m < s.m && k < k1) {
        v = gemm_a(z, m, k);
      }
      tileA[(kk * BM + mm) / 4u][mm % 4u] = v;
    }
    for (var r = 0u; r < BK * BN / THREADS; r++) {
      let e = r * THREADS + li;
      let kk = e / BN;
      let nn = e % BN;
      let k = kt + kk;
      let n = col0 + nn;
      var v = 0.0;
      if (k < k1 && n < s.n) {
        v = gemm_b(z, k, n);
      }
      tileB[(kk * BN + nn) / 4u][nn % 4u] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let a = tileA[(kk * BM + lid.y * TM) / 4u];
      let b = tileB[(kk * BN + lid.x * TN) / 4u];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  return acc;
}

// Origin (row, column) of the tile of workgroup wid, or a row past M for surplus workgroups.
fn gemm_tile(wid: vec3<u32>, nwg: vec3<u32>) -> vec2<u32> {
  let s = gemm_shape();
  let tilesX = (s.n + BN - 1u) / BN;
  let tile = folded_id(wid, nwg);
  return vec2<u32>((tile / tilesX) * BM, (tile % tilesX) * BN);
}

fn gemm_range(zs: u32) -> vec2<u32> {
  let s = gemm_shape();
  let k0 = (zs % s.splits) * s.kChunk;
  return vec2<u32>(k0, min(s.k, k0 + s.kChunk));
}

@compute @workgroup_size(WGX, WGY, 1)
fn gemm(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let s = gemm_shape();
  let origin = gemm_tile(wid, nwg);
  if (origin.x >= s.m) {
    return;
  }
  let row0 = origin.x;
  let col0 = origin.y;
  let acc = gemm_block(wid.z, row0, col0, 0u, s.k, lid, li);
  for (var i = 0u; i < TM; i++) {
    let m = row0 + lid.y * TM + i;
    for (var j = 0u; j < TN; j++) {
      let n = col0 + lid.x * TN + j;
      if (m < s.m && n < s.n) {
        gemm_store(wid.z, m, n, acc[i][j]);
      }
    }
  }
}

@compute @workgroup_size(WGX, WGY, 1)
fn gemmPartial(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let s = gemm_shape();
  let origin = gemm_tile(wid, nwg);
  if (origin.x >= s.m) {
    return;
  }
  let row0 = origin.x;
  let col0 = origin.y;
  let range = gemm_range(wid.z);
  let acc = gemm_block(wid.z / s.splits, row0, col0, range.x, range.y, lid, li);
  for (var i = 0u; i < TM; i++) {
    let m = row0 + lid.y * TM + i;
    for (var j = 0u; j < TN; j++) {
      let n = col0 + lid.x * TN + j;
      if (m < s.m && n < s.n) {
        gemmPartials[(wid.z * s.m + m) * s.n + n] = acc[i][j];
      }
    }
  }
}
