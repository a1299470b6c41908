// 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", CVPR 2016): every 2x2 block of outputs comes
// from a 4x4 tile of input d as Y = A^T [sum_c (G g_kc G^T) * (B^T d_c B)] A, so the products
// are 16 matrix products (one per position xi of the 4x4 transformed tile) with 2.25x fewer
// multiplications than the direct convolution. gemm.wgsl or the register core is prepended,
// then a perturb_*.wgsl variant.
//
//   weightTransform  U[xi][k][c] = (G g_kc G^T)[xi], g_kc = W[k, c] (forward) or, for the
//                    input gradient, W[c, k] rotated by 180 degrees
//   inputTransform   V[xi][t][c] = (B^T d_ct B)[xi] for tile t = (nb, th, tw) of channel c,
//                    d = input rows 2 th - pad .. + 3, columns 2 tw - pad .. + 3 (zero outside)
//   gemm             M[xi] (K x T) = U[xi] (K x C) * V[xi]^T (C x T): the register core's
//                    "dot" form reads U in place and V as packed, vec4s along c (C % 4 == 0)
//   outputTransform  y[nb, k, 2 th + i, 2 tw + j] = epilogue((A^T M_kt A)[i, j] (+ bias[k]))
//
// At G parameter points (a perturb_*.wgsl variant defines perturbed()), U, V and M gain a
// leading point (V: input group) axis, slice z = 16 g + xi of the products, and an input with
// one group serves every point.
//
// Bindings: 1 = U (gemm), x (inputTransform) or M (outputTransform); 2 = V (gemm) or the
// parameters (weight transform); 3 = what the kernel writes; 4 = the bias of each point
// (bias_table.wgsl's table, or the bias itself); 5 = the output transform's epilogue
// (epilogue.wgsl); 6 = x as a texture (inputTransform6). Invocations are numbered wid.x +
// wid.y * nwg.x workgroups of 64 (folded past 65,535).

struct Params {
  m: u32, // K: output channels (the weight gradient: see its section below)
  n: u32, // T: tiles
  k: u32, // C: input channels
  splits: u32,
  kChunk: u32,
  batch: u32,
  inH: u32,
  inW: u32,
  outH: u32,
  outW: u32,
  tilesH: u32,
  tilesW: u32,
  pad: u32,
  wAt: u32, // W[0, 0, 0, 0] in binding 2
  bAt: u32, // bias[0] in binding 2
  flip: u32, // 1: g_kc = W[c, k] rotated (the input gradient's kernel)
  hasBias: u32,
  points: u32, // G
  groups: u32, // input groups: 1 (shared by every point) or G
  wIndex: u32, // W[0, 0, 0, 0] in the model's flat vector (for perturbed())
  tableAt: u32, // bias of point g at biasTable[tableAt + g * tableStride + k]
  tableStride: u32,
  tStride: u32, // elements between rows of the products' output (N, or T in whole vec4s)
  // A leading convolution (leadTable, inputTransformLed6): x0 [leadGroups, batch, C0, H0, W0];
  // W0 and its bias at leadWAt and leadBAt in binding 2, leadWIndex and leadBIndex in the
  // model's flat vector.
  leadChannels: u32,
  leadH: u32,
  leadW: u32,
  leadPad: u32,
  leadGroups: u32,
  leadWAt: u32,
  leadBAt: u32,
  leadWIndex: u32,
  leadBIndex: u32,
}

// Side of the output tile: 2 for F(2x2, 3x3), 4 for F(4x4, 3x3) (forward products only).
override OUT_TILE: u32 = 2u;

// Products per tile: one per value of a (OUT_TILE + 2)^2 input tile.
fn winograd_slices() -> u32 {
  return (OUT_TILE + 2u) * (OUT_TILE + 2u);
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> srcA: array<f32>;
@group(0) @binding(2) var<storage, read> srcB: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<storage, read> biasTable: array<f32>;

// Tile t of an image group: (image within the group, tile row, tile column).
fn winograd_tile(t: u32) -> vec3<u32> {
  let perImage = p.tilesH * p.tilesW;
  let q = t % perImage;
  return vec3<u32>(t / perImage, q / p.tilesW, q % p.tilesW);
}

// srcA at, at + step, at + 2 step, at + 3 step.
fn winograd_gather4(at: u32, step: u32) -> vec4<f32> {
  return vec4<f32>(srcA[at], srcA[at + step], srcA[at + 2u * step], srcA[at + 3u * step]);
}

// The 3 x 3 kernel g_kc at parameter point `point`, row by row: W[k, c], or W[c, k] rotated
// by 180 degrees for the input gradient (p.flip).
fn winograd_kernel(point: u32, k: u32, c: u32) -> array<vec3<f32>, 3> {
  let K = p.m;
  let C = p.k;
  var g: array<vec3<f32>, 3>;
  for (var a = 0u; a < 3u; a++) {
    var row = vec3<f32>(0.0);
    for (var b = 0u; b < 3u; b++) {
      var w = ((k * C + c) * 3u + a) * 3u + b;
      if (p.flip != 0u) {
        w = ((c * K + k) * 3u + 2u - a) * 3u + 2u - b;
      }
      row[b] = perturbed(point, p.wIndex + w, srcB[p.wAt + w]);
    }
    g[a] = row;
  }
  return g;
}

// The kernel (point, k, c) invocation i of a weight transform serves; valid is false past the
// last one.
struct WeightSite {
  point: u32,
  k: u32,
  c: u32,
  valid: bool,
}

fn winograd_weight_site(i: u32) -> WeightSite {
  let K = p.m;
  let C = p.k;
  return WeightSite(i / (K * C), (i / C) % K, i % C, i < p.points * K * C);
}

// Where element e of the `elements` values of U of a site goes: U[point, e, k, c].
fn winograd_u_at(w: WeightSite, e: u32, elements: u32) -> u32 {
  return ((w.point * elements + e) * p.m + w.k) * p.k + w.c;
}

// One invocation per (k, c): the 16 values of G g G^T.
@compute @workgroup_size(64)
fn weightTransform(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let w = winograd_weight_site(invocation_index(wg, 64u, lid));
  if (!w.valid) {
    return;
  }
  let g = winograd_kernel(w.point, w.k, w.c);
  // t = G g (4 x 3), then U = t G^T row by row.
  var t: array<vec3<f32>, 4>;
  t[0] = g[0];
  t[1] = 0.5 * (g[0] + g[1] + g[2]);
  t[2] = 0.5 * (g[0] - g[1] + g[2]);
  t[3] = g[2];
  for (var r = 0u; r < 4u; r++) {
    let v = t[r];
    let u = vec4<f32>(v.x, 0.5 * (v.x + v.y + v.z), 0.5 * (v.x - v.y + v.z), v.z);
    for (var s = 0u; s < 4u; s++) {
      dst[winograd_u_at(w, r * 4u + s, 16u)] = u[s];
    }
  }
}

// Channels c .. c + 3 of input position (nb, row, col) in binding 1, zero outside the image.
fn winograd_x4(nb: u32, c: u32, row: i32, col: i32) -> vec4<f32> {
  if (row < 0 || col < 0 || row >= i32(p.inH) || col >= i32(p.inW)) {
    return vec4<f32>(0.0);
  }
  let at = ((nb * p.k + c) * p.inH + u32(row)) * p.inW + u32(col);
  return winograd_gather4(at, p.inH * p.inW);
}

@group(0) @binding(3) var<storage, read_write> dst4: array<vec4<f32>>;

// What inputTransform invocation i transforms: channels c .. c + 3 of the tile of image
// `image` whose input rows and columns start at row0, col0 (tiles of side x side outputs); its
// value xi of V goes to dst4[first + xi * step].
struct InputSite {
  image: u32,
  c: u32,
  row0: i32,
  col0: i32,
  first: u32,
  step: u32,
}

fn winograd_input_site(i: u32, side: u32) -> InputSite {
  let T = p.n;
  let C4 = p.k / 4u;
  let group = i / (T * C4);
  let t = (i / C4) % T;
  let cq = i % C4;
  let tile = winograd_tile(t);
  let slices = (side + 2u) * (side + 2u);
  return InputSite(
    group * p.batch + tile.x,
    4u * cq,
    i32(side * tile.y) - i32(p.pad),
    i32(side * tile.z) - i32(p.pad),
    select((group * slices * T + t) * C4 + cq, winograd_v6_at(group, 0u, cq, t), side == 4u),
    select(T * C4, 1u, side == 4u),
  );
}

// One invocation per (tile, four channels): B^T d B for each channel, its 16 values stored
// as vec4s over the channels (the layout the products read).
@compute @workgroup_size(64)
fn inputTransform(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, 64u, lid);
  if (i >= p.groups * p.n * (p.k / 4u)) {
    return;
  }
  let site = winograd_input_site(i, 2u);
  // d B for each of the four rows of the tile (entries are vec4s over the channels).
  var d: array<array<vec4<f32>, 4>, 4>;
  for (var r = 0; r < 4; r++) {
    let row = site.row0 + r;
    let x0 = winograd_x4(site.image, site.c, row, site.col0);
    let x1 = winograd_x4(site.image, site.c, row, site.col0 + 1);
    let x2 = winograd_x4(site.image, site.c, row, site.col0 + 2);
    let x3 = winograd_x4(site.image, site.c, row, site.col0 + 3);
    d[r] = array<vec4<f32>, 4>(x0 - x2, x1 + x2, x2 - x1, x1 - x3);
  }
  // B^T applied down the columns.
  for (var s = 0u; s < 4u; s++) {
    let v = array<vec4<f32>, 4>(d[0][s] - d[2][s], d[1][s] + d[2][s], d[2][s] - d[1][s], d[1][s] - d[3][s]);
    for (var r = 0u; r < 4u; r++) {
      dst4[site.first + (r * 4u + s) * site.step] = v[r];
    }
  }
}

// One invocation per (k, tile): the 2 x 2 outputs A^T M A, bias added, rows and columns past
// the output dropped.
@compute @workgroup_size(64)
fn outputTransform(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, 64u, lid);
  let K = p.m;
  let T = p.n;
  if (i >= p.points * K * T) {
    return;
  }
  let point = i / (K * T);
  let k = (i / T) % K;
  let t = i % T;
  // Rows of M_kt: m[r][s] = M[16 point + 4 r + s][k][t].
  let step = K * T;
  var m: array<vec4<f32>, 4>;
  for (var r = 0u; r < 4u; r++) {
    m[r] = winograd_gather4(((point * 16u + 4u * r) * K + k) * T + t, step);
  }
  // A^T M (two rows), then each times A.
  let u0 = m[0] + m[1] + m[2];
  let u1 = m[1] - m[2] - m[3];
  var bias = 0.0;
  if (p.hasBias != 0u) {
    bias = biasTable[p.tableAt + point * p.tableStride + k];
  }
  let y = array<vec2<f32>, 2>(
    vec2<f32>(u0.x + u0.y + u0.z, u0.y - u0.z - u0.w),
    vec2<f32>(u1.x + u1.y + u1.z, u1.y - u1.z - u1.w),
  );
  let tile = winograd_tile(t);
  let nb = point * p.batch + tile.x;
  let e = epilogue_channel(point, k, K);
  for (var a = 0u; a < 2u; a++) {
    for (var b = 0u; b < 2u; b++) {
      let row = 2u * tile.y + a;
      let col = 2u * tile.z + b;
      if (row < p.outH && col < p.outW) {
        dst[((nb * K + k) * p.outH + row) * p.outW + col] = epilogue_apply(e, vec4<f32>(y[a][b] + bias)).x;
      }
    }
  }
}

// F(4x4, 3x3), with OUT_TILE = 4: 6 x 6 input tiles, 36 products, 4 x 4 outputs per tile,
// 4x fewer multiply-adds than the direct convolution (F(2x2, 3x3): 2.25x). The transforms
// (interpolation points 0, 1, -1, 2, -2 and infinity):
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// Tile t covers output rows 4 th .. + 3 and input rows 4 th - pad .. + 5 (columns alike). V is
// laid out V[g][t][c / 4][xi] (vec4s over four channels; see winograd_v6_at), M as above.

// B^T d for six values d (vec4s over four channels).
fn winograd_bt6(d: array<vec4<f32>, 6>) -> array<vec4<f32>, 6> {
  return array<vec4<f32>, 6>(
    4.0 * d[0] - 5.0 * d[2] + d[4],
    d[3] + d[4] - 4.0 * (d[1] + d[2]),
    4.0 * (d[1] - d[2]) - d[3] + d[4],
    2.0 * (d[3] - d[1]) - d[2] + d[4],
    2.0 * (d[1] - d[3]) - d[2] + d[4],
    4.0 * d[1] - 5.0 * d[3] + d[5],
  );
}

// G g for three values g (rows of a kernel, or one row's values).
fn winograd_g6(a: vec3<f32>, b: vec3<f32>, c: vec3<f32>) -> array<vec3<f32>, 6> {
  return array<vec3<f32>, 6>(
    0.25 * a,
    -(a + b + c) / 6.0,
    (b - a - c) / 6.0,
    a / 24.0 + b / 12.0 + c / 6.0,
    a / 24.0 - b / 12.0 + c / 6.0,
    c,
  );
}

// A^T m for six values m: four outputs.
fn winograd_at6(m: array<f32, 6>) -> vec4<f32> {
  return vec4<f32>(
    m[0] + m[1] + m[2] + m[3] + m[4],
    m[1] - m[2] + 2.0 * (m[3] - m[4]),
    m[1] + m[2] + 4.0 * (m[3] + m[4]),
    m[1] - m[2] + 8.0 * (m[3] - m[4]) + m[5],
  );
}

// One invocation per (k, c): the 36 values of G g G^T.
@compute @workgroup_size(64)
fn weightTransform6(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let w = winograd_weight_site(invocation_index(wg, 64u, lid));
  if (!w.valid) {
    return;
  }
  let g = winograd_kernel(w.point, w.k, w.c);
  // t = G g (6 x 3), then U = t G^T row by row.
  let t = winograd_g6(g[0], g[1], g[2]);
  for (var r = 0u; r < 6u; r++) {
    let u = winograd_g6(vec3<f32>(t[r].x), vec3<f32>(t[r].y), vec3<f32>(t[r].z));
    for (var s = 0u; s < 6u; s++) {
      dst[winograd_u_at(w, r * 6u + s, 36u)] = u[s].x;
    }
  }
}

@group(0) @binding(1) var<storage, read> srcA4: array<vec4<f32>>;

// F(4x4, 3x3)'s input transform reads its input from a texture copy, vec4 q at texel
// (q % 2^X_TEXEL_SHIFT, q / 2^X_TEXEL_SHIFT): lavapipe loads a texel per lane for less than a
// storage vec4 (see gemm_register.wgsl), and the transform loads each input value 2.25 times.
@group(0) @binding(6) var winogradInput: texture_2d<f32>;
override X_TEXEL_SHIFT: u32 = 12u;

// Vec4 q of the input, zero before its start.
fn winograd_load4(q: i32) -> vec4<f32> {
  if (q < 0) {
    return vec4<f32>(0.0);
  }
  let i = u32(q);
  let texel = vec2<u32>(i & ((1u << X_TEXEL_SHIFT) - 1u), i >> X_TEXEL_SHIFT);
  return textureLoad(winogradInput, texel, 0);
}

// Six consecutive values of the twelve in a, b, c from offset o (0 .. 3), by selects.
fn winograd_window6(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, o: u32) -> array<f32, 6> {
  let o1 = o == 1u;
  let o2 = o == 2u;
  let o3 = o == 3u;
  let s1 = select(select(select(a.x, a.y, o1), a.z, o2), a.w, o3);
  let s2 = select(select(select(a.y, a.z, o1), a.w, o2), b.x, o3);
  let s3 = select(select(select(a.z, a.w, o1), b.x, o2), b.y, o3);
  let s4 = select(select(select(a.w, b.x, o1), b.y, o2), b.z, o3);
  let s5 = select(select(select(b.x, b.y, o1), b.z, o2), b.w, o3);
  let s6 = select(select(select(b.y, b.z, o1), b.w, o2), c.x, o3);
  return array<f32, 6>(s1, s2, s3, s4, s5, s6);
}

// Columns col0 .. col0 + 5 of row `row` of channel c of image nb, zero outside the image:
// two or three vec4 loads of the flat input, whatever the row's alignment (a load past the
// texture's last texel, whose value is undefined, only fills positions outside the image).
fn winograd_row6(nb: u32, c: u32, row: i32, col0: i32) -> array<f32, 6> {
  if (row < 0 || row >= i32(p.inH)) {
    return array<f32, 6>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  }
  let start = i32(((nb * p.k + c) * p.inH + u32(row)) * p.inW) + col0;
  let q = (start + 4) / 4 - 1; // floor(start / 4): start >= -2
  let o = u32(start - 4 * q);
  var c2 = vec4<f32>(0.0);
  if (o == 3u) {
    c2 = winograd_load4(q + 2);
  }
  let x = winograd_window6(winograd_load4(q), winograd_load4(q + 1), c2, o);
  let w = i32(p.inW);
  return array<f32, 6>(
    select(0.0, x[0], col0 >= 0 && col0 < w),
    select(0.0, x[1], col0 + 1 >= 0 && col0 + 1 < w),
    select(0.0, x[2], col0 + 2 >= 0 && col0 + 2 < w),
    select(0.0, x[3], col0 + 3 < w),
    select(0.0, x[4], col0 + 4 < w),
    select(0.0, x[5], col0 + 5 < w),
  );
}

// d B for row `row` of a tile: its six values (vec4s over channels c .. c + 3) times B.
fn winograd_input_row(nb: u32, c: u32, row: i32, col0: i32) -> array<vec4<f32>, 6> {
  let x0 = winograd_row6(nb, c, row, col0);
  let x1 = winograd_row6(nb, c + 1u, row, col0);
  let x2 = winograd_row6(nb, c + 2u, row, col0);
  let x3 = winograd_row6(nb, c + 3u, row, col0);
  return winograd_bt6(array<vec4<f32>, 6>(
    vec4<f32>(x0[0], x1[0], x2[0], x3[0]),
    vec4<f32>(x0[1], x1[1], x2[1], x3[1]),
    vec4<f32>(x0[2], x1[2], x2[2], x3[2]),
    vec4<f32>(x0[3], x1[3], x2[3], x3[3]),
    vec4<f32>(x0[4], x1[4], x2[4], x3[4]),
    vec4<f32>(x0[5], x1[5], x2[5], x3[5]),
  ));
}

// Column s of B^T (d B): V[r][s] for r = 0 .. 5, stored at first + (6 r + s) step.
fn winograd_store_column6(first: u32, step: u32, s: u32, column: array<vec4<f32>, 6>) {
  let v = winograd_bt6(column);
  dst4[first + s * step] = v[0];
  dst4[first + (6u + s) * step] = v[1];
  dst4[first + (12u + s) * step] = v[2];
  dst4[first + (18u + s) * step] = v[3];
  dst4[first + (24u + s) * step] = v[4];
  dst4[first + (30u + s) * step] = v[5];
}

// B^T applied down the columns of d B (rows d0 .. d5), stored as the site's 36 values of V.
fn winograd_store_tile6(
  site: InputSite,
  d0: array<vec4<f32>, 6>,
  d1: array<vec4<f32>, 6>,
  d2: array<vec4<f32>, 6>,
  d3: array<vec4<f32>, 6>,
  d4: array<vec4<f32>, 6>,
  d5: array<vec4<f32>, 6>,
) {
  let first = site.first;
  let step = site.step;
  winograd_store_column6(first, step, 0u, array<vec4<f32>, 6>(d0[0], d1[0], d2[0], d3[0], d4[0], d5[0]));
  winograd_store_column6(first, step, 1u, array<vec4<f32>, 6>(d0[1], d1[1], d2[1], d3[1], d4[1], d5[1]));
  winograd_store_column6(first, step, 2u, array<vec4<f32>, 6>(d0[2], d1[2], d2[2], d3[2], d4[2], d5[2]));
  winograd_store_column6(first, step, 3u, array<vec4<f32>, 6>(d0[3], d1[3], d2[3], d3[3], d4[3], d5[3]));
  winograd_store_column6(first, step, 4u, array<vec4<f32>, 6>(d0[4], d1[4], d2[4], d3[4], d4[4], d5[4]));
  winograd_store_column6(first, step, 5u, array<vec4<f32>, 6>(d0[5], d1[5], d2[5], d3[5], d4[5], d5[5]));
}

// One invocation per (tile, four channels): B^T d B for each channel, its 36 values stored
// as vec4s over the channels.
@compute @workgroup_size(64)
fn inputTransform6(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, 64u, lid);
  if (i >= p.groups * p.n * (p.k / 4u)) {
    return;
  }
  let site = winograd_input_site(i, 4u);
  winograd_store_tile6(
    site,
    winograd_input_row(site.image, site.c, site.row0, site.col0),
    winograd_input_row(site.image, site.c, site.row0 + 1, site.col0),
    winograd_input_row(site.image, site.c, site.row0 + 2, site.col0),
    winograd_input_row(site.image, site.c, site.row0 + 3, site.col0),
    winograd_input_row(site.image, site.c, site.row0 + 4, site.col0),
    winograd_input_row(site.image, site.c, site.row0 + 5, site.col0),
  );
}

// A leading convolution: where this convolution's input x is epilogue(conv(x0)) for a 3x3,
// stride-1 convolution of an input x0 with few channels (an image's), the input transform
// computes x's 6 x 6 values of its tile from x0 instead of loading them, and that convolution
// never stores x (on the paper CNN, 9 multiply-adds a value against a pass over 64 channels).
// x0 is read from a texture copy as x is above (binding 6); the lead's weights, bias and
// epilogue coefficients at every point from a table leadTable writes first (binding 2). Values
// of x outside x's H x W are the convolution's zero padding, not conv(x0).

@group(0) @binding(2) var<storage, read> srcB4: array<vec4<f32>>;

// Vec4s of the lead's table per (point, four channels): 9 C0 taps, then the bias, and the
// epilogue's mean, scale and shift.
fn winograd_lead_entries() -> u32 {
  return 9u * p.leadChannels + 4u;
}

// One invocation per (point, four channels c .. c + 3, entry e): for e < 9 C0 the tap e = 9 ci
// + 3 a + b of W0[c .. c + 3, ci] at the point, then the bias and the epilogue's coefficients.
@compute @workgroup_size(64)
fn leadTable(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, 64u, lid);
  let entries = winograd_lead_entries();
  let C4 = p.k / 4u;
  if (i >= p.points * C4 * entries) {
    return;
  }
  let e = i % entries;
  let c = 4u * ((i / entries) % C4);
  let point = i / (entries * C4);
  let taps = 9u * p.leadChannels;
  var v = vec4<f32>(0.0);
  if (e <= taps) {
    // W0[c + j] at tap e, or the bias of channel c + j.
    var w = (c * p.leadChannels) * 9u + e;
    var step = taps;
    var at = p.leadWAt;
    var index = p.leadWIndex;
    if (e == taps) {
      w = c;
      step = 1u;
      at = p.leadBAt;
      index = p.leadBIndex;
    }
    v = vec4<f32>(
      perturbed(point, index + w, srcB[at + w]),
      perturbed(point, index + w + step, srcB[at + w + step]),
      perturbed(point, index + w + 2u * step, srcB[at + w + 2u * step]),
      perturbed(point, index + w + 3u * step, srcB[at + w + 3u * step]),
    );
  } else {
    let ep = epilogue_channels4(point, c, p.k);
    v = select(select(ep.shift, ep.scale, e == taps + 2u), ep.mean, e == taps + 1u);
  }
  dst4[i] = v;
}

// Eight values of row `row` of channel ci of x0's image n0 from column col (zero outside x0):
// three vec4 loads, whatever the alignment.
fn winograd_lead_row8(n0: u32, ci: u32, row: i32, col: i32) -> array<f32, 8> {
  if (row < 0 || row >= i32(p.leadH)) {
    return array<f32, 8>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  }
  let start = i32(((n0 * p.leadChannels + ci) * p.leadH + u32(row)) * p.leadW) + col;
  let q = (start + 8) / 4 - 2; // floor(start / 4): start >= -4
  let o = u32(start - 4 * q);
  let a = winograd_load4(q);
  let b = winograd_load4(q + 1);
  let c = winograd_load4(q + 2);
  let lo = winograd_window6(a, b, c, o);
  let o1 = o == 1u;
  let o2 = o == 2u;
  let o3 = o == 3u;
  let s7 = select(select(select(b.z, b.w, o1), c.x, o2), c.y, o3);
  let s8 = select(select(select(b.w, c.x, o1), c.y, o2), c.z, o3);
  let x = array<f32, 8>(lo[0], lo[1], lo[2], lo[3], lo[4], lo[5], s7, s8);
  let w = i32(p.leadW);
  return array<f32, 8>(
    select(0.0, x[0], col >= 0 && col < w),
    select(0.0, x[1], col + 1 >= 0 && col + 1 < w),
    select(0.0, x[2], col + 2 >= 0 && col + 2 < w),
    select(0.0, x[3], col + 3 >= 0 && col + 3 < w),
    select(0.0, x[4], col + 4 >= 0 && col + 4 < w),
    select(0.0, x[5], col + 5 >= 0 && col + 5 < w),
    select(0.0, x[6], col + 6 >= 0 && col + 6 < w),
    select(0.0, x[7], col + 7 >= 0 && col + 7 < w),
  );
}

// The taps of W0[c .. c + 3, ci] (table vec4s from `at`): w[3 a + b] holds tap (a, b).
fn winograd_lead_weights(at: u32) -> array<vec4<f32>, 9> {
  return array<vec4<f32>, 9>(
    srcB4[at],
    srcB4[at + 1u],
    srcB4[at + 2u],
    srcB4[at + 3u],
    srcB4[at + 4u],
    srcB4[at + 5u],
    srcB4[at + 6u],
    srcB4[at + 7u],
    srcB4[at + 8u],
  );
}

// One value of the lead for four channels: the 3 x 3 taps times rows a, b, c from a column.
fn winograd_lead_dot(
  w: array<vec4<f32>, 9>,
  a0: f32, a1: f32, a2: f32,
  b0: f32, b1: f32, b2: f32,
  c0: f32, c1: f32, c2: f32,
) -> vec4<f32> {
  return w[0] * a0 + w[1] * a1 + w[2] * a2 + w[3] * b0 + w[4] * b1 + w[5] * b2 + w[6] * c0 +
    w[7] * c1 + w[8] * c2;
}

// Six values of a row of the lead from three rows of x0 (constant indices only: see
// winograd_column6), added to `sum`.
fn winograd_lead_row(
  sum: array<vec4<f32>, 6>,
  w: array<vec4<f32>, 9>,
  a: array<f32, 8>,
  b: array<f32, 8>,
  c: array<f32, 8>,
) -> array<vec4<f32>, 6> {
  return array<vec4<f32>, 6>(
    sum[0] + winograd_lead_dot(w, a[0], a[1], a[2], b[0], b[1], b[2], c[0], c[1], c[2]),
    sum[1] + winograd_lead_dot(w, a[1], a[2], a[3], b[1], b[2], b[3], c[1], c[2], c[3]),
    sum[2] + winograd_lead_dot(w, a[2], a[3], a[4], b[2], b[3], b[4], c[2], c[3], c[4]),
    sum[3] + winograd_lead_dot(w, a[3], a[4], a[5], b[3], b[4], b[5], c[3], c[4], c[5]),
    sum[4] + winograd_lead_dot(w, a[4], a[5], a[6], b[4], b[5], b[6], c[4], c[5], c[6]),
    sum[5] + winograd_lead_dot(w, a[5], a[6], a[7], b[5], b[6], b[7], c[5], c[6], c[7]),
  );
}

// Row `row` of x's tile (six sums of the lead, four channels each): bias added, epilogue e
// applied, zero outside x, then times B.
fn winograd_lead_finish(
  sum: array<vec4<f32>, 6>,
  bias: vec4<f32>,
  e: EpilogueAt,
  row: i32,
  col0: i32,
) -> array<vec4<f32>, 6> {
  let inRow = row >= 0 && row < i32(p.inH);
  let w = i32(p.inW);
  let zero = vec4<f32>(0.0);
  return winograd_bt6(array<vec4<f32>, 6>(
    select(zero, epilogue_apply(e, sum[0] + bias), inRow && col0 >= 0 && col0 < w),
    select(zero, epilogue_apply(e, sum[1] + bias), inRow && col0 + 1 >= 0 && col0 + 1 < w),
    select(zero, epilogue_apply(e, sum[2] + bias), inRow && col0 + 2 >= 0 && col0 + 2 < w),
    select(zero, epilogue_apply(e, sum[3] + bias), inRow && col0 + 3 >= 0 && col0 + 3 < w),
    select(zero, epilogue_apply(e, sum[4] + bias), inRow && col0 + 4 >= 0 && col0 + 4 < w),
    select(zero, epilogue_apply(e, sum[5] + bias), inRow && col0 + 5 >= 0 && col0 + 5 < w),
  ));
}

// inputTransform6 with a leading convolution: one invocation per (group, tile, four channels
// of x); group g is parameter point g (or the one point).
@compute @workgroup_size(64)
fn inputTransformLed6(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, 64u, lid);
  if (i >= p.groups * p.n * (p.k / 4u)) {
    return;
  }
  let site = winograd_input_site(i, 4u);
  let point = site.image / p.batch;
  let n0 = select(point, 0u, p.leadGroups == 1u) * p.batch + site.image % p.batch;
  // x0's rows and columns under the tile's 6 x 6 values of x.
  let row = site.row0 - i32(p.leadPad);
  let col = site.col0 - i32(p.leadPad);
  let zero = vec4<f32>(0.0);
  var s0 = array<vec4<f32>, 6>(zero, zero, zero, zero, zero, zero);
  var s1 = s0;
  var s2 = s0;
  var s3 = s0;
  var s4 = s0;
  var s5 = s0;
  let table = (point * (p.k / 4u) + site.c / 4u) * winograd_lead_entries();
  for (var ci = 0u; ci < p.leadChannels; ci++) {
    let w = winograd_lead_weights(table + 9u * ci);
    let x0 = winograd_lead_row8(n0, ci, row, col);
    let x1 = winograd_lead_row8(n0, ci, row + 1, col);
    let x2 = winograd_lead_row8(n0, ci, row + 2, col);
    let x3 = winograd_lead_row8(n0, ci, row + 3, col);
    let x4 = winograd_lead_row8(n0, ci, row + 4, col);
    let x5 = winograd_lead_row8(n0, ci, row + 5, col);
    let x6 = winograd_lead_row8(n0, ci, row + 6, col);
    let x7 = winograd_lead_row8(n0, ci, row + 7, col);
    s0 = winograd_lead_row(s0, w, x0, x1, x2);
    s1 = winograd_lead_row(s1, w, x1, x2, x3);
    s2 = winograd_lead_row(s2, w, x2, x3, x4);
    s3 = winograd_lead_row(s3, w, x3, x4, x5);
    s4 = winograd_lead_row(s4, w, x4, x5, x6);
    s5 = winograd_lead_row(s5, w, x5, x6, x7);
  }
  let rest = table + 9u * p.leadChannels;
  let bias = srcB4[rest];
  let e = EpilogueAt(srcB4[rest + 1u], srcB4[rest + 2u], srcB4[rest + 3u]);
  let r = site.row0;
  winograd_store_tile6(
    site,
    winograd_lead_finish(s0, bias, e, r, site.col0),
    winograd_lead_finish(s1, bias, e, r + 1, site.col0),
    winograd_lead_finish(s2, bias, e, r + 2, site.col0),
    winograd_lead_finish(s3, bias, e, r + 3, site.col0),
    winograd_lead_finish(s4, bias, e, r + 4, site.col0),
    winograd_lead_finish(s5, bias, e, r + 5, site.col0),
  );
}

// A^T m for six vec4s m (four tiles at once): four outputs of each.
fn winograd_at6x4(m: array<vec4<f32>, 6>) -> array<vec4<f32>, 4> {
  return array<vec4<f32>, 4>(
    m[0] + m[1] + m[2] + m[3] + m[4],
    m[1] - m[2] + 2.0 * (m[3] - m[4]),
    m[1] + m[2] + 4.0 * (m[3] + m[4]),
    m[1] - m[2] + 8.0 * (m[3] - m[4]) + m[5],
  );
}

// The output transform indexes arrays and vectors with constants only: on lavapipe an array
// (or vector) indexed by a loop counter lands in scratch memory, a loop over the SIMD lanes
// per access.

// Column s of the 36 products of four tiles (rows r = 0 .. 5: M at first + (6 r + s) step).
fn winograd_column6(first: u32, step: u32, s: u32) -> array<vec4<f32>, 6> {
  return array<vec4<f32>, 6>(
    srcA4[first + s * step],
    srcA4[first + (6u + s) * step],
    srcA4[first + (12u + s) * step],
    srcA4[first + (18u + s) * step],
    srcA4[first + (24u + s) * step],
    srcA4[first + (30u + s) * step],
  );
}

// Where an output tile goes: the index of its first output (row 0, column 0), and how many
// of its rows and columns lie inside the output (rows 0 for a tile past the last).
struct Place {
  at: u32,
  rows: u32,
  cols: u32,
}

// Places of four consecutive tiles, the first tile (image, tile row, tile column) given; the
// others stepped along the row, then to the next row and image, without division.
struct Places4 {
  p0: Place,
  p1: Place,
  p2: Place,
  p3: Place,
}

fn winograd_place(image: u32, k: u32, tile: vec2<u32>, valid: bool) -> Place {
  var out: Place;
  if (valid) {
    out.at = ((image * p.m + k) * p.outH + 4u * tile.x) * p.outW + 4u * tile.y;
    out.rows = min(4u, p.outH - 4u * tile.x);
    out.cols = min(4u, p.outW - 4u * tile.y);
  }
  return out;
}

// The tile after (image, tile row, tile column).
fn winograd_next_tile(t: vec3<u32>) -> vec3<u32> {
  var next = vec3<u32>(t.x, t.y, t.z + 1u);
  if (next.z == p.tilesW) {
    next = vec3<u32>(t.x, t.y + 1u, 0u);
    if (next.y == p.tilesH) {
      next = vec3<u32>(t.x + 1u, 0u, 0u);
    }
  }
  return next;
}

fn winograd_places4(point: u32, k: u32, tq: u32) -> Places4 {
  let t0 = winograd_tile(4u * tq);
  let t1 = winograd_next_tile(t0);
  let t2 = winograd_next_tile(t1);
  let t3 = winograd_next_tile(t2);
  let image = point * p.batch;
  return Places4(
    winograd_place(image + t0.x, k, t0.yz, 4u * tq < p.n),
    winograd_place(image + t1.x, k, t1.yz, 4u * tq + 1u < p.n),
    winograd_place(image + t2.x, k, t2.yz, 4u * tq + 2u < p.n),
    winograd_place(image + t3.x, k, t3.yz, 4u * tq + 3u < p.n),
  );
}

// y[j] holds column j of four tiles (one per component): the rows of the four tiles.
fn winograd_transpose(y: array<vec4<f32>, 4>) -> array<vec4<f32>, 4> {
  return array<vec4<f32>, 4>(
    vec4<f32>(y[0].x, y[1].x, y[2].x, y[3].x),
    vec4<f32>(y[0].y, y[1].y, y[2].y, y[3].y),
    vec4<f32>(y[0].z, y[1].z, y[2].z, y[3].z),
    vec4<f32>(y[0].w, y[1].w, y[2].w, y[3].w),
  );
}

// The outputs of four consecutive tiles as one invocation computes them: rows[a][lane] holds
// row a of tile `lane`, bias added and epilogue applied.
struct Outputs6 {
  places: Places4,
  rows: array<array<vec4<f32>, 4>, 4>,
}

// Row a of A^T M A for four tiles (c: (A^T M)[a][s] for s = 0 .. 5): per tile, bias added and
// epilogue e applied.
fn winograd_output_row(c: array<vec4<f32>, 6>, bias: f32, e: EpilogueAt) -> array<vec4<f32>, 4> {
  let y = winograd_transpose(winograd_at6x4(c));
  return array<vec4<f32>, 4>(
    epilogue_apply(e, y[0] + bias),
    epilogue_apply(e, y[1] + bias),
    epilogue_apply(e, y[2] + bias),
    epilogue_apply(e, y[3] + bias),
  );
}

// Invocation i's (k, four consecutive tiles): A^T M A from M's rows padded to whole vec4s
// (p.tStride), so that each of the 36 values comes for four tiles in one load.
fn winograd_outputs6(i: u32) -> Outputs6 {
  let K = p.m;
  let T4 = p.tStride / 4u;
  let point = i / (K * T4);
  let k = (i / T4) % K;
  let tq = i % T4;
  // A^T M column by column: cs[a] holds (A^T M)[a][s] of the four tiles.
  let step = K * T4;
  let first = point * 36u * step + k * T4 + tq;
  let c0 = winograd_at6x4(winograd_column6(first, step, 0u));
  let c1 = winograd_at6x4(winograd_column6(first, step, 1u));
  let c2 = winograd_at6x4(winograd_column6(first, step, 2u));
  let c3 = winograd_at6x4(winograd_column6(first, step, 3u));
  let c4 = winograd_at6x4(winograd_column6(first, step, 4u));
  let c5 = winograd_at6x4(winograd_column6(first, step, 5u));
  var bias = 0.0;
  if (p.hasBias != 0u) {
    bias = biasTable[p.tableAt + point * p.tableStride + k];
  }
  // Then each row of A^T M times A.
  let e = epilogue_channel(point, k, K);
  var out: Outputs6;
  out.places = winograd_places4(point, k, tq);
  out.rows[0] = winograd_output_row(array<vec4<f32>, 6>(c0[0], c1[0], c2[0], c3[0], c4[0], c5[0]), bias, e);
  out.rows[1] = winograd_output_row(array<vec4<f32>, 6>(c0[1], c1[1], c2[1], c3[1], c4[1], c5[1]), bias, e);
  out.rows[2] = winograd_output_row(array<vec4<f32>, 6>(c0[2], c1[2], c2[2], c3[2], c4[2], c5[2]), bias, e);
  out.rows[3] = winograd_output_row(array<vec4<f32>, 6>(c0[3], c1[3], c2[3], c3[3], c4[3], c5[3]), bias, e);
  return out;
}

// Tile row a (columns in v) where it lies inside the output, one value at a time.
fn winograd_store_row(place: Place, a: u32, v: vec4<f32>) {
  if (a < place.rows) {
    let at = place.at + a * p.outW;
    dst[at] = v.x;
    if (place.cols > 1u) {
      dst[at + 1u] = v.y;
    }
    if (place.cols > 2u) {
      dst[at + 2u] = v.z;
    }
    if (place.cols > 3u) {
      dst[at + 3u] = v.w;
    }
  }
}

// The same as one vec4 (OW % 4 == 0, so the row is whole and aligned).
fn winograd_store_row4(place: Place, a: u32, v: vec4<f32>) {
  if (a < place.rows) {
    dst4[(place.at + a * p.outW) / 4u] = v;
  }
}

// Row a of four tiles.
fn winograd_store_rows(places: Places4, a: u32, row: array<vec4<f32>, 4>) {
  winograd_store_row(places.p0, a, row[0]);
  winograd_store_row(places.p1, a, row[1]);
  winograd_store_row(places.p2, a, row[2]);
  winograd_store_row(places.p3, a, row[3]);
}

fn winograd_store_row4s(places: Places4, a: u32, row: array<vec4<f32>, 4>) {
  winograd_store_row4(places.p0, a, row[0]);
  winograd_store_row4(places.p1, a, row[1]);
  winograd_store_row4(places.p2, a, row[2]);
  winograd_store_row4(places.p3, a, row[3]);
}

// One invocation per (k, four consecutive tiles): their 4 x 4 outputs, rows and columns past
// the output dropped.
@compute @workgroup_size(64)
fn outputTransform6(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, 64u, lid);
  if (i >= p.points * p.m * (p.tStride / 4u)) {
    return;
  }
  let o = winograd_outputs6(i);
  // Row by row with constant indices (see winograd_column6).
  winograd_store_rows(o.places, 0u, o.rows[0]);
  winograd_store_rows(o.places, 1u, o.rows[1]);
  winograd_store_rows(o.places, 2u, o.rows[2]);
  winograd_store_rows(o.places, 3u, o.rows[3]);
}

// The same, one vec4 store per row of a tile (OW % 4 == 0).
@compute @workgroup_size(64)
fn outputTransform6Rows(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, 64u, lid);
  if (i >= p.points * p.m * (p.tStride / 4u)) {
    return;
  }
  let o = winograd_outputs6(i);
  // Row by row with constant indices (see winograd_column6).
  winograd_store_row4s(o.places, 0u, o.rows[0]);
  winograd_store_row4s(o.places, 1u, o.rows[1]);
  winograd_store_row4s(o.places, 2u, o.rows[2]);
  winograd_store_row4s(o.places, 3u, o.rows[3]);
}

// The weight gradient by F(3x3, 2x2) over the same tiles: dW[k, c] (3 x 3) = A'^T [sum_t
// (G' f_kt G'^T) * (B'^T d_ct B')] A', f_kt = dy[nb, k] at rows 2 th .. + 1, columns 2 tw ..
// + 1 (zero past the output). B'^T = D B^T with D = diag(1, 1, 1, -1), so the forward's V
// serves, with the signs moved onto the gradient's transform:
//   gradientTransform  U'[xi][t][k] = (D G' f_kt G'^T D)[xi], vec4s over k
//   gemm (GRAD = 1)    M[xi] (K x C) = U'[xi]^T (K x T) * V[xi] (T x C), over all tiles
//   weightGradient     dW[k, c, a, b] = (A'^T M_kc A')[a, b], into the gradient binding
//   biasGradient       db[k] = sum over images of the per-(image, channel) sums of dy
// with G' = [1 0; 1/2 1/2; 1/2 -1/2; 0 1] and A'^T = [1 1 1 0; 0 1 -1 0; 0 1 1 1]. Struct
// fields for these: m = K, n = C, k = T.

// 1 selects the weight gradient's layouts in the GEMM accessors below.
override GRAD: u32 = 0u;

// dy at (nb, channels k .. k + 3, row, col), zero past the output.
fn winograd_dy4(nb: u32, k: u32, row: u32, col: u32) -> vec4<f32> {
  if (row >= p.outH || col >= p.outW) {
    return vec4<f32>(0.0);
  }
  let at = ((nb * p.m + k) * p.outH + row) * p.outW + col;
  return winograd_gather4(at, p.outH * p.outW);
}

// One invocation per (tile, four output channels).
@compute @workgroup_size(64)
fn gradientTransform(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, 64u, lid);
  let T = p.k;
  let K4 = p.m / 4u;
  if (i >= T * K4) {
    return;
  }
  let t = i / K4;
  let kq = i % K4;
  let tile = winograd_tile(t);
  let nb = tile.x;
  let row = 2u * tile.y;
  let col = 2u * tile.z;
  let f00 = winograd_dy4(nb, 4u * kq, row, col);
  let f01 = winograd_dy4(nb, 4u * kq, row, col + 1u);
  let f10 = winograd_dy4(nb, 4u * kq, row + 1u, col);
  let f11 = winograd_dy4(nb, 4u * kq, row + 1u, col + 1u);
  // G' f (4 x 2), rows; D negates row 3 and column 3.
  let g = array<array<vec4<f32>, 2>, 4>(
    array<vec4<f32>, 2>(f00, f01),
    array<vec4<f32>, 2>(0.5 * (f00 + f10), 0.5 * (f01 + f11)),
    array<vec4<f32>, 2>(0.5 * (f00 - f10), 0.5 * (f01 - f11)),
    array<vec4<f32>, 2>(-f10, -f11),
  );
  for (var r = 0u; r < 4u; r++) {
    let a = g[r][0];
    let b = g[r][1];
    let u = array<vec4<f32>, 4>(a, 0.5 * (a + b), 0.5 * (a - b), -b);
    for (var s = 0u; s < 4u; s++) {
      dst4[((r * 4u + s) * T + t) * K4 + kq] = u[s];
    }
  }
}

// One invocation per (k, c): the 3 x 3 gradient A'^T M A'.
@compute @workgroup_size(64)
fn weightGradient(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, 64u, lid);
  let K = p.m;
  let C = p.n;
  if (i >= K * C) {
    return;
  }
  let k = i / C;
  let c = i % C;
  let step = K * C;
  var m: array<vec4<f32>, 4>;
  for (var r = 0u; r < 4u; r++) {
    m[r] = winograd_gather4((4u * r * K + k) * C + c, step);
  }
  let u = array<vec4<f32>, 3>(m[0] + m[1] + m[2], m[1] - m[2], m[1] + m[2] + m[3]);
  for (var a = 0u; a < 3u; a++) {
    let v = u[a];
    let y = vec3<f32>(v.x + v.y + v.z, v.y - v.z, v.y + v.z + v.w);
    for (var b = 0u; b < 3u; b++) {
      dst[p.wAt + ((k * C + c) * 3u + a) * 3u + b] = y[b];
    }
  }
}

// One invocation per (image, k): the sum of dy over the image's OH x OW outputs, into dst.
@compute @workgroup_size(64)
fn outputSums(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, 64u, lid);
  if (i >= p.batch * p.m) {
    return;
  }
  let plane = p.outH * p.outW;
  var sum = 0.0;
  for (var j = 0u; j < plane; j++) {
    sum += srcA[i * plane + j];
  }
  dst[i] = sum;
}

// One invocation per k: db[k] = sum over images of binding 1's [batch, K] per-channel sums.
@compute @workgroup_size(64)
fn biasGradient(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let k = invocation_index(wg, 64u, lid);
  if (k >= p.m) {
    return;
  }
  var sum = 0.0;
  for (var nb = 0u; nb < p.batch; nb++) {
    sum += srcA[nb * p.m + k];
  }
  dst[p.bAt + k] = sum;
}

// Where F(4x4, 3x3)'s V holds channels 4 cq .. 4 cq + 3 of tile t of input group g in slice xi,
// in vec4s: slices fastest, so that each invocation of the input transform stores its 36 values
// side by side (with slices outermost they lie T C / 4 vec4s apart, and the input transform ran
// 1.1-1.5x slower on lavapipe).
// The products then read V 36 vec4s apart along C; each of their invocations takes 6 slices
// in turn (GEMM_SLICES_PER), which find the rest of V's cache lines loaded. F(2x2, 3x3)'s V
// keeps slices outermost: its weight gradient reads that layout.
fn winograd_v6_at(g: u32, xi: u32, cq: u32, t: u32) -> u32 {
  return ((g * p.n + t) * (p.k / 4u) + cq) * 36u + xi;
}

// The same for product slice z = 36 point + xi (point g reads input group g, or the one group).
fn winograd_v6_of(z: u32, cq: u32, t: u32) -> u32 {
  return winograd_v6_at(select(z / 36u, 0u, p.groups == 1u), z % 36u, cq, t);
}

// The 16 products through the GEMM core's accessors (z = xi).
fn gemm_shape() -> GemmShape {
  return GemmShape(p.m, p.n, p.k, p.splits, p.kChunk);
}

fn gemm_a(z: u32, m: u32, k: u32) -> f32 {
  if (GRAD == 1u) { // U'[z][t = k][m]
    return srcA[(z * p.k + k) * p.m + m];
  }
  return srcA[(z * p.m + m) * p.k + k];
}

// The slice of V that product slice z reads: every point reads the one input group's.
fn winograd_v_slice(z: u32) -> u32 {
  return select(z, z % winograd_slices(), p.groups == 1u);
}

fn gemm_b(z: u32, k: u32, n: u32) -> f32 {
  if (GRAD == 1u) { // V[z][t = k][n]
    return srcB[(z * p.k + k) * p.n + n];
  }
  if (OUT_TILE == 4u) {
    return srcB[4u * winograd_v6_of(z, k / 4u, n) + k % 4u];
  }
  return srcB[(winograd_v_slice(z) * p.n + n) * p.k + k];
}

fn gemm_store(z: u32, m: u32, n: u32, v: f32) {
  dst[(z * p.m + m) * p.tStride + n] = v;
}

// Where row m of C starts, in vec4s (rows are padded to whole vec4s: F(4x4, 3x3)'s products).
alias GemmRow = u32;

fn gemm_row(z: u32, m: u32) -> GemmRow {
  return (z * p.m + m) * (p.tStride / 4u);
}

// C[m, n .. n + 3].
fn gemm_store4(z: u32, m: u32, n: u32, v: vec4<f32>, row: GemmRow) {
  dst4[row + n / 4u] = v;
}

fn gemm_a4(z: u32, mq: u32, k: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (4u * mq + j < p.m) {
      v[j] = gemm_a(z, 4u * mq + j, k);
    }
  }
  return v;
}

fn gemm_b4(z: u32, k: u32, nq: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (4u * nq + j < p.n) {
      v[j] = gemm_b(z, k, 4u * nq + j);
    }
  }
  return v;
}

// V is written in the layout the products read, so the core is handed it packed (packing
// it again would copy it): rows of C / 4 vec4s, row t of slice xi. The forward reads it in
// the "dot" form (vec4s along c, its contraction), the weight gradient in the "outer" form
// (row t = k of B, vec4s along n = c).
fn gemm_b_pack(z: u32, row: u32, q: u32) -> vec4<f32> {
  var rows = p.n; // T rows of C / 4 (the one operand of every slice holds 16 T rows)
  var width = p.k / 4u;
  if (GRAD == 1u) {
    rows = p.k;
    width = p.n / 4u;
  }
  var at = (z * rows + row) * width + q;
  if (OUT_TILE == 4u) { // the one operand: row (36 g + xi) T + t
    at = winograd_v6_of(row / p.n, q, row % p.n);
  }
  return vec4<f32>(srcB[4u * at], srcB[4u * at + 1u], srcB[4u * at + 2u], srcB[4u * at + 3u]);
}

fn gemm_b_row(z: u32, k: u32) -> u32 {
  return k * (p.n / 4u);
}

fn gemm_b_col(z: u32, nq: u32) -> u32 {
  return nq;
}

// Rows and columns past K and T read the last valid ones (their products are never stored).
fn gemm_dot_a_k(z: u32, kq: u32) -> u32 {
  return kq;
}

fn gemm_dot_a_m(z: u32, m: u32) -> u32 {
  return (z * p.m + min(m, p.m - 1u)) * (p.k / 4u);
}

fn gemm_dot_b_k(z: u32, kq: u32) -> u32 {
  if (OUT_TILE == 4u) {
    return kq * 36u;
  }
  return kq;
}

// With one input group V is one operand holding every slice (packB.everySlice: 16 T rows), so
// the slice is picked here; with G groups the core steps slices itself. F(4x4, 3x3)'s V is one
// operand whatever the groups (winograd_v6_at).
fn gemm_dot_b_n(z: u32, n: u32) -> u32 {
  if (OUT_TILE == 4u) {
    return winograd_v6_of(z, 0u, min(n, p.n - 1u));
  }
  let slice = select(0u, z % winograd_slices(), p.groups == 1u);
  return (slice * p.n + min(n, p.n - 1u)) * (p.k / 4u);
}
