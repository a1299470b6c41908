// Dense layer y = x W^T + b as products on the GEMM core (gemm.wgsl is prepended, and a
// perturb_*.wgsl variant that defines perturbed()). MODE picks the product:
//   0 forward  y[g] (B x OUT) = x (B x IN) * W^T, W read at point g; gemm_store adds b of
//              point g from a table (bias_table.wgsl's for G points, or b itself)
//   1 dx       dx   (B x IN)  = dy (B x OUT) * W
//   2 dw, db   [dW | db] (OUT x IN+1) = dy^T (OUT x B) * [x | 1]
//   3 center   P (B x OUT) = x * W*^T, no bias (antithetic pairs on a shared input, below)
//   4 pairs    Q[z] (B x OUT) = x * (sigma eps_z)^T for pair z of the dispatch, stored as the
//              pair's two points y = P + Q + b and P - Q + b (b of each point from the table)
//   5 basis    Q[z] (B x OUT) = x * W*^T for z = 0, x * d_z^T (the perturbation alone) after,
//              stored as they are: P and the products of a subspace's directions
//   6 combine  y (G x B*OUT) = [1 | a] (G x 1+dim) * Q (1+dim x B*OUT): y_g = P + sum_j a_gj Q_j,
//              plus b of point g from the table; A = the coefficients, B = MODE 5's products
// Points on an input every point shares (a first layer) whose weights are w* plus a sum of
// shared steps need one product per step plus P instead of one per point: antithetic pairs
// w* ± sigma eps_p (MODE 3, 4: noise and multiply-adds halve) and subspace points w* + sum_j
// a_gj d_j (MODE 5, 6: dim + 1 products for any number of points).
// The bias of the gradients rides along as an extra column of N, so no kernel is needed for
// it. Bindings: 1 = a-side source, 2 = b-side source, 3 = destination, 4 = the bias table,
// 5 = the epilogue's (epilogue.wgsl: ReLU and batch norm applied in the forward's store).
// Parameters and gradients are views of the model's flat buffers, so W and b (and dW and db)
// sit in one binding at offsets wAt and bAt; wIndex is W's position in the flat vector (the
// bias table has the bias's).

override MODE: u32 = 0;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  splits: u32,
  kChunk: u32,
  features: u32, // IN (MODE 6: the coefficients' row stride, dim padded to 4)
  outputs: u32, // OUT
  batch: u32, // B, samples per group
  xGroupStride: u32, // elements between groups of x (0: one x shared by every point)
  wAt: u32,
  bAt: u32,
  wIndex: u32,
  tableAt: u32, // b of point g at biasTable[tableAt + g * tableStride + n]
  tableStride: u32,
  centerAt: u32, // MODE 4: P[m, n] at biasTable[centerAt + m * OUT + n]
  pairOdd: u32, // MODE 4: 1 when the dispatch's first point is the - point of its pair
  points: u32, // MODE 4: points of the dispatch (pairs may straddle its ends)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> srcA: array<f32>;
@group(0) @binding(2) var<storage, read> srcB: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<storage, read> biasTable: array<f32>;

fn gemm_shape() -> GemmShape {
  return GemmShape(p.m, p.n, p.k, p.splits, p.kChunk);
}

// Whether slice z reads its perturbation without w*: MODE 4's sigma eps_p, MODE 5's directions.
fn dense_step_alone(z: u32) -> bool {
  return MODE == 4u || (MODE == 5u && z > 0u);
}

// The points pair z of a MODE 4 dispatch stores to: 2z + 1 - pairOdd (w* - sigma eps) and the
// one before it (w* + sigma eps), each where it lies inside the dispatch.
struct DensePair {
  minus: u32,
  plus: u32,
  hasMinus: bool,
  hasPlus: bool,
}

fn dense_pair(z: u32) -> DensePair {
  let minus = 2u * z + 1u - p.pairOdd;
  let hasMinus = minus < p.points;
  let hasPlus = minus >= 1u && minus - 1u < p.points;
  return DensePair(minus, minus - 1u, hasMinus, hasPlus);
}

// biasTable[at .. at + 3].
fn dense_columns4(at: u32) -> vec4<f32> {
  return vec4<f32>(biasTable[at], biasTable[at + 1u], biasTable[at + 2u], biasTable[at + 3u]);
}

// The bias and epilogue coefficients of columns n .. n + 3 at point `point`.
struct PointColumns {
  bias: vec4<f32>,
  e: EpilogueAt,
}

fn dense_point_columns(point: u32, n: u32) -> PointColumns {
  return PointColumns(
    dense_columns4(p.tableAt + point * p.tableStride + n),
    epilogue_channels4(point, n, p.outputs),
  );
}

// y = epilogue(v + b) for four columns.
fn dense_finish(c: PointColumns, v: vec4<f32>) -> vec4<f32> {
  return epilogue_apply(c.e, v + c.bias);
}

// What every store of columns n .. n + 3 shares, loaded once per four columns (the register
// core's "columns4" store): the columns of the point stored to (MODE 0: point z; MODE 4: the
// pair's - point), and of MODE 4's + point.
struct GemmColumns {
  at: PointColumns,
  plus: PointColumns,
}

fn gemm_columns(z: u32, n: u32) -> GemmColumns {
  var c: GemmColumns;
  switch MODE {
    case 0u: {
      c.at = dense_point_columns(z, n);
    }
    case 4u: {
      let pair = dense_pair(z);
      if (pair.hasMinus) {
        c.at = dense_point_columns(pair.minus, n);
      }
      if (pair.hasPlus) {
        c.plus = dense_point_columns(pair.plus, n);
      }
    }
    default: {}
  }
  return c;
}

@group(0) @binding(3) var<storage, read_write> dst4: array<vec4<f32>>;

// y[m, n .. n + 3] of slice z (OUT % 4 == 0 where the product stores by columns).
fn dense_store4(z: u32, m: u32, n: u32, y: vec4<f32>) {
  dst4[((z * p.batch + m) * p.outputs + n) / 4u] = y;
}

// C[m, n .. n + 3] as gemm_store stores each value, c from gemm_columns(z, n): one vec4 store
// per point stored to (the host asks for this store only where OUT % 4 == 0).
fn gemm_store_columns(z: u32, m: u32, n: u32, v: vec4<f32>, c: GemmColumns) {
  switch MODE {
    case 0u: {
      dense_store4(z, m, n, dense_finish(c.at, v));
    }
    case 4u: {
      let center = dense_columns4(p.centerAt + m * p.outputs + n);
      let pair = dense_pair(z);
      if (pair.hasMinus) {
        dense_store4(pair.minus, m, n, dense_finish(c.at, center - v));
      }
      if (pair.hasPlus) {
        dense_store4(pair.plus, m, n, dense_finish(c.plus, center + v));
      }
    }
    default: { // 3, 5: the products as they are
      dense_store4(z, m, n, v);
    }
  }
}

fn gemm_a(z: u32, m: u32, k: u32) -> f32 {
  switch MODE {
    case 0u, 3u, 4u, 5u: { // x[z][m, k]
      return srcA[z * p.xGroupStride + m * p.features + k];
    }
    case 6u: { // [1 | a][m, k]: 1, then the coefficients of point m
      if (k == 0u) {
        return 1.0;
      }
      return srcA[m * p.features + k - 1u];
    }
    case 1u: { // dy[m, k]
      return srcA[m * p.outputs + k];
    }
    default: { // dy^T: dy[k, m]
      return srcA[k * p.outputs + m];
    }
  }
}

fn gemm_b(z: u32, k: u32, n: u32) -> f32 {
  switch MODE {
    case 0u, 3u, 4u, 5u: { // W^T[k, n] = W[n, k] at point z (or the perturbation alone)
      let i = n * p.features + k;
      return perturbed(z, p.wIndex + i, select(srcB[p.wAt + i], 0.0, dense_step_alone(z)));
    }
    case 6u: { // Q[k][n]
      return srcB[k * p.n + n];
    }
    case 1u: { // W[k, n]
      return srcB[p.wAt + k * p.features + n];
    }
    default: { // x[k, n], 1 in the bias column
      if (n == p.features) {
        return 1.0;
      }
      return srcB[k * p.features + n];
    }
  }
}

fn gemm_store(z: u32, m: u32, n: u32, v: f32) {
  switch MODE {
    case 0u: {
      let b = biasTable[p.tableAt + z * p.tableStride + n];
      dst[(z * p.batch + m) * p.outputs + n] = epilogue(z, n, p.outputs, v + b);
    }
    case 3u, 5u: {
      dst[(z * p.batch + m) * p.outputs + n] = v;
    }
    case 4u: { // the pair's two points (dense_pair)
      let center = biasTable[p.centerAt + m * p.outputs + n];
      let pair = dense_pair(z);
      if (pair.hasMinus) {
        let b = biasTable[p.tableAt + pair.minus * p.tableStride + n];
        dst[(pair.minus * p.batch + m) * p.outputs + n] = epilogue(pair.minus, n, p.outputs, (center - v) + b);
      }
      if (pair.hasPlus) {
        let b = biasTable[p.tableAt + pair.plus * p.tableStride + n];
        dst[(pair.plus * p.batch + m) * p.outputs + n] = epilogue(pair.plus, n, p.outputs, (center + v) + b);
      }
    }
    case 6u: { // y[m][n] of point m, column n = sample * OUT + output
      let o = n % p.outputs;
      let b = biasTable[p.tableAt + m * p.tableStride + o];
      dst[m * p.n + n] = epilogue(m, o, p.outputs, v + b);
    }
    case 1u: {
      dst[m * p.features + n] = v;
    }
    default: {
      if (n == p.features) {
        dst[p.bAt + m] = v;
      } else {
        dst[p.wAt + m * p.features + n] = v;
      }
    }
  }
}

// Vector accessors of the register core (gemm_register.wgsl): A[4mq .. 4mq+3, k] and
// B[k, 4nq .. 4nq+3], zero past M and N. Only the first `count` of four values strided
// `stride` apart are read.
fn dense_a4(i: u32, stride: u32, count: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < min(count, 4u); j++) {
    v[j] = srcA[i + j * stride];
  }
  return v;
}

fn dense_b4(i: u32, stride: u32, count: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < min(count, 4u); j++) {
    v[j] = srcB[i + j * stride];
  }
  return v;
}

// How many of the four indices first .. first+3 are below limit.
fn dense_count(first: u32, limit: u32) -> u32 {
  return min(4u, max(first, limit) - first);
}

fn gemm_a4(z: u32, mq: u32, k: u32) -> vec4<f32> {
  let m = mq * 4u;
  let count = dense_count(m, p.m);
  switch MODE {
    case 0u, 3u, 4u, 5u: { // x[z][m.., k]
      return dense_a4(z * p.xGroupStride + m * p.features + k, p.features, count);
    }
    case 6u: { // [1 | a][m.., k]
      if (k == 0u) {
        return select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(count));
      }
      return dense_a4(m * p.features + k - 1u, p.features, count);
    }
    case 1u: { // dy[m.., k]
      return dense_a4(m * p.outputs + k, p.outputs, count);
    }
    default: { // dy[k, m..]
      return dense_a4(k * p.outputs + m, 1u, count);
    }
  }
}

fn gemm_b4(z: u32, k: u32, nq: u32) -> vec4<f32> {
  let n = nq * 4u;
  let count = dense_count(n, p.n);
  switch MODE {
    case 0u, 3u, 4u, 5u: { // W[n.., k] at point z (or the perturbation alone)
      let at = p.wAt + n * p.features + k;
      let index = p.wIndex + n * p.features + k;
      let alone = dense_step_alone(z);
      var v = vec4<f32>(0.0);
      for (var j = 0u; j < count; j++) {
        v[j] = perturbed(z, index + j * p.features, select(srcB[at + j * p.features], 0.0, alone));
      }
      return v;
    }
    case 6u: { // Q[k][n..]
      return dense_b4(k * p.n + n, 1u, count);
    }
    case 1u: { // W[k, n..]
      return dense_b4(p.wAt + k * p.features + n, 1u, count);
    }
    default: { // x[k, n..], 1 in the bias column
      let v = dense_b4(k * p.features + n, 1u, dense_count(n, p.features));
      return select(v, vec4<f32>(1.0), n + vec4<u32>(0u, 1u, 2u, 3u) == vec4<u32>(p.features));
    }
  }
}

// The forward in the register core's dot form (IN % 4 == 0): A = x read in place in vec4s
// along IN, B = W packed in its own rows (row n = W[n, .] at point z, IN / 4 vec4s), so that
// four consecutive weights take one perturbed4() call. Rows and columns past M and N read the
// last valid ones (their products are never stored).
fn gemm_b_pack(z: u32, row: u32, q: u32) -> vec4<f32> {
  let i = row * p.features + 4u * q;
  let at = p.wAt + i;
  let w = vec4<f32>(srcB[at], srcB[at + 1u], srcB[at + 2u], srcB[at + 3u]);
  return perturbed4(z, p.wIndex + i, select(w, vec4<f32>(0.0), dense_step_alone(z)));
}

fn gemm_dot_a_k(z: u32, kq: u32) -> u32 {
  return kq;
}

fn gemm_dot_a_m(z: u32, m: u32) -> u32 {
  return (z * p.xGroupStride + min(m, p.m - 1u) * p.features) / 4u;
}

fn gemm_dot_b_k(z: u32, kq: u32) -> u32 {
  return kq;
}

fn gemm_dot_b_n(z: u32, n: u32) -> u32 {
  return min(n, p.outputs - 1u) * (p.features / 4u);
}

// Only the dot form uses a layout of its own.
fn gemm_b_row(z: u32, k: u32) -> u32 {
  return 0u;
}

fn gemm_b_col(z: u32, nq: u32) -> u32 {
  return 0u;
}
