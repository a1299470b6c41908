// 2D convolution (NCHW, any kernel size, stride and zero padding) as implicit GEMM on the
// GEMM core (gemm.wgsl is prepended, and a perturb_*.wgsl variant). Nothing is unfolded into
// memory: the im2col matrix is gathered element by element as tiles are staged. MODE:
//   0 forward  y[g] (OC x NB*OH*OW) = [W | b] (OC x K+1) * [col(x) ; 1], W and b at point g
//   1 dx       dx (IC x NB*IH*IW) = W' (IC x OC*KH*KW) * dy gathered by output position
//   2 dw, db   [dW | db] (OC x K+1) = dy (OC x NB*OH*OW) * [col(x) ; 1]^T
// with K = IC*KH*KW, col(x)[(ic, kh, kw), (n, oh, ow)] = x[n, ic, oh*S + kh - P, ow*S + kw - P].
// Bindings: 1 = x (forward) or dy, 2 = parameters (forward, dx) or x (dw), 3 = destination,
// 5 = the forward's epilogue (epilogue.wgsl: ReLU and batch norm applied in its store).

override MODE: u32 = 0;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  splits: u32,
  kChunk: u32,
  batch: u32, // NB, images per group
  inC: u32,
  inH: u32,
  inW: u32,
  outC: u32,
  outH: u32,
  outW: u32,
  kH: u32,
  kW: u32,
  stride: u32,
  pad: u32,
  xGroupStride: u32, // elements between groups of x (0: shared by every point)
  wAt: u32,
  bAt: u32,
  wIndex: u32,
  bIndex: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> srcA: array<f32>;
@group(0) @binding(2) var<storage, read> srcB: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

fn gemm_shape() -> GemmShape {
  return GemmShape(p.m, p.n, p.k, p.splits, p.kChunk);
}

// col(x)[kk, pix] of group z, with x in binding `fromA` (1) or 2.
fn im2col(z: u32, kk: u32, pix: u32, fromA: bool) -> f32 {
  let khw = p.kH * p.kW;
  let ic = kk / khw;
  let r = kk % khw;
  let ohw = p.outH * p.outW;
  let nb = pix / ohw;
  let q = pix % ohw;
  let ih = i32((q / p.outW) * p.stride + r / p.kW) - i32(p.pad);
  let iw = i32((q % p.outW) * p.stride + r % p.kW) - i32(p.pad);
  if (ih < 0 || iw < 0 || ih >= i32(p.inH) || iw >= i32(p.inW)) {
    return 0.0;
  }
  let i = z * p.xGroupStride + ((nb * p.inC + ic) * p.inH + u32(ih)) * p.inW + u32(iw);
  if (fromA) {
    return srcA[i];
  }
  return srcB[i];
}

fn gemm_a(z: u32, m: u32, k: u32) -> f32 {
  let kk = p.inC * p.kH * p.kW;
  switch MODE {
    case 0u: { // [W | b][oc, k] at point z
      if (k == kk) {
        return perturbed(z, p.bIndex + m, srcB[p.bAt + m]);
      }
      let i = m * kk + k;
      return perturbed(z, p.wIndex + i, srcB[p.wAt + i]);
    }
    case 1u: { // W'[ic, (oc, kh, kw)] = W[oc, ic, kh, kw]
      let khw = p.kH * p.kW;
      return srcB[p.wAt + ((k / khw) * p.inC + m) * khw + k % khw];
    }
    default: { // dy[oc, (n, oh, ow)]
      let ohw = p.outH * p.outW;
      return srcA[((k / ohw) * p.outC + m) * ohw + k % ohw];
    }
  }
}

fn gemm_b(z: u32, k: u32, n: u32) -> f32 {
  let kk = p.inC * p.kH * p.kW;
  switch MODE {
    case 0u: {
      if (k == kk) {
        return 1.0;
      }
      return im2col(z, k, n, true);
    }
    case 1u: { // dy[n, oc, oh, ow] for input position n = (nb, ih, iw), k = (oc, kh, kw)
      let khw = p.kH * p.kW;
      let oc = k / khw;
      let r = k % khw;
      let ihw = p.inH * p.inW;
      let nb = n / ihw;
      let q = n % ihw;
      let th = i32(q / p.inW + p.pad) - i32(r / p.kW);
      let tw = i32(q % p.inW + p.pad) - i32(r % p.kW);
      let s = i32(p.stride);
      if (th < 0 || tw < 0 || th % s != 0 || tw % s != 0) {
        return 0.0;
      }
      let oh = u32(th / s);
      let ow = u32(tw / s);
      if (oh >= p.outH || ow >= p.outW) {
        return 0.0;
      }
      return srcA[((nb * p.outC + oc) * p.outH + oh) * p.outW + ow];
    }
    default: { // col(x)^T[(n, oh, ow), k'], 1 in the bias column
      if (n == kk) {
        return 1.0;
      }
      return im2col(0u, n, k, false);
    }
  }
}

fn gemm_store(z: u32, m: u32, n: u32, v: f32) {
  switch MODE {
    case 0u: {
      let ohw = p.outH * p.outW;
      dst[((z * p.batch + n / ohw) * p.outC + m) * ohw + n % ohw] = epilogue(z, m, p.outC, v);
    }
    case 1u: {
      let ihw = p.inH * p.inW;
      dst[((n / ihw) * p.inC + m) * ihw + n % ihw] = v;
    }
    default: {
      let kk = p.inC * p.kH * p.kW;
      if (n == kk) {
        dst[p.bAt + m] = v;
      } else {
        dst[p.wAt + m * kk + n] = v;
      }
    }
  }
}

@group(0) @binding(3) var<storage, read_write> dst4: array<vec4<f32>>;

// What every store of output channel m shares: its epilogue coefficients.
alias GemmRow = EpilogueAt;

fn gemm_row(z: u32, m: u32) -> GemmRow {
  return epilogue_channel(z, m, p.outC);
}

// The forward's y[z][n .. n + 3] of output channel m, four positions of one image (the register
// core's "rows4" store, given where OH OW % 4 == 0).
fn gemm_store4(z: u32, m: u32, n: u32, v: vec4<f32>, row: GemmRow) {
  let ohw = p.outH * p.outW;
  dst4[(((z * p.batch + n / ohw) * p.outC + m) * ohw + n % ohw) / 4u] = epilogue_apply(row, v);
}

// Vector accessors of the register core (gemm_register.wgsl): A[4mq .. 4mq+3, k] and
// B[k, 4nq .. 4nq+3], zero past M and N, with one index split per vector instead of one per
// value. The register core uses them only when M, N and K are below 2^22, so conv_divmod
// applies.

// floor(a / d) and a % d for a < 2^22, 0 < d < 2^22. WGSL's f32 division is within 2.5 ULP,
// less than 0.625 for quotients below 2^22, so the float quotient truncates to within one of
// the true one; one correction each way makes it exact.
fn conv_divmod(a: u32, d: u32) -> vec2<u32> {
  var q = u32(f32(a) / f32(d));
  var r = i32(a) - i32(q * d);
  if (r < 0) {
    q -= 1u;
    r += i32(d);
  }
  if (r >= i32(d)) {
    q += 1u;
    r -= i32(d);
  }
  return vec2<u32>(q, u32(r));
}

// How many of the four indices first .. first+3 are below limit.
fn conv_count(first: u32, limit: u32) -> u32 {
  return min(4u, max(first, limit) - first);
}

// x[nb, ic, ih, iw] of group z from binding 1 (fromA) or 2, 0 in the padding.
fn conv_x(z: u32, nb: u32, ic: u32, ih: i32, iw: i32, fromA: bool) -> f32 {
  if (ih < 0 || iw < 0 || ih >= i32(p.inH) || iw >= i32(p.inW)) {
    return 0.0;
  }
  let i = z * p.xGroupStride + ((nb * p.inC + ic) * p.inH + u32(ih)) * p.inW + u32(iw);
  if (fromA) {
    return srcA[i];
  }
  return srcB[i];
}

fn gemm_a4(z: u32, mq: u32, k: u32) -> vec4<f32> {
  let m = mq * 4u;
  let khw = p.kH * p.kW;
  let kk = p.inC * khw;
  var v = vec4<f32>(0.0);
  switch MODE {
    case 0u: { // [W | b][oc.., k] at point z
      var at = p.wAt + m * kk + k;
      var index = p.wIndex + m * kk + k;
      var stride = kk;
      if (k == kk) {
        at = p.bAt + m;
        index = p.bIndex + m;
        stride = 1u;
      }
      for (var j = 0u; j < conv_count(m, p.outC); j++) {
        v[j] = perturbed(z, index + j * stride, srcB[at + j * stride]);
      }
    }
    case 1u: { // W'[ic.., (oc, kh, kw)] = W[oc, ic.., kh, kw]
      let t = conv_divmod(k, khw);
      let at = p.wAt + (t.x * p.inC + m) * khw + t.y;
      for (var j = 0u; j < conv_count(m, p.inC); j++) {
        v[j] = srcB[at + j * khw];
      }
    }
    default: { // dy[oc.., (n, oh, ow)]
      let ohw = p.outH * p.outW;
      let t = conv_divmod(k, ohw);
      let at = (t.x * p.outC + m) * ohw + t.y;
      for (var j = 0u; j < conv_count(m, p.outC); j++) {
        v[j] = srcA[at + j * ohw];
      }
    }
  }
  return v;
}

// The position after (nb, row, col) in an image batch of rows x cols positions.
fn conv_next(at: vec3<u32>, rows: u32, cols: u32) -> vec3<u32> {
  var q = at;
  q.z += 1u;
  if (q.z == cols) {
    q.z = 0u;
    q.y += 1u;
    if (q.y == rows) {
      q.y = 0u;
      q.x += 1u;
    }
  }
  return q;
}

// col(x)[(ic, kh, kw), (nb, oh, ow)] of group z, from binding 1, with (dh, dw) = (kh, kw) - pad.
fn conv_col(z: u32, at: vec3<u32>, ic: u32, dh: i32, dw: i32) -> f32 {
  let s = i32(p.stride);
  return conv_x(z, at.x, ic, i32(at.y) * s + dh, i32(at.z) * s + dw, true);
}

// dy[nb, oc, oh, ow] for input position at = (nb, ih, iw) and tap (kh, kw), (dh, dw) = pad -
// (kh, kw): oh * stride = ih + dh, 0 where that is not a whole output position.
fn conv_dy(at: vec3<u32>, oc: u32, dh: i32, dw: i32) -> f32 {
  let th = i32(at.y) + dh;
  let tw = i32(at.z) + dw;
  if (th < 0 || tw < 0) {
    return 0.0;
  }
  var oh = u32(th);
  var ow = u32(tw);
  if (p.stride != 1u) {
    let qh = conv_divmod(oh, p.stride);
    let qw = conv_divmod(ow, p.stride);
    if (qh.y != 0u || qw.y != 0u) {
      return 0.0;
    }
    oh = qh.x;
    ow = qw.x;
  }
  if (oh >= p.outH || ow >= p.outW) {
    return 0.0;
  }
  return srcA[((at.x * p.outC + oc) * p.outH + oh) * p.outW + ow];
}

fn gemm_b4(z: u32, k: u32, nq: u32) -> vec4<f32> {
  let n = nq * 4u;
  let khw = p.kH * p.kW;
  let kk = p.inC * khw;
  let pad = i32(p.pad);
  var v = vec4<f32>(0.0);
  switch MODE {
    case 0u: { // col(x)[k, (nb, oh, ow)..], 1 in the bias row
      let count = conv_count(n, p.n);
      if (k == kk) {
        return select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(count));
      }
      let c = conv_divmod(k, khw);
      let hw = conv_divmod(c.y, p.kW);
      let dh = i32(hw.x) - pad;
      let dw = i32(hw.y) - pad;
      let t = conv_divmod(n, p.outH * p.outW);
      let o = conv_divmod(t.y, p.outW);
      var at = vec3<u32>(t.x, o.x, o.y);
      if (count > 0u) {
        v.x = conv_col(z, at, c.x, dh, dw);
      }
      at = conv_next(at, p.outH, p.outW);
      if (count > 1u) {
        v.y = conv_col(z, at, c.x, dh, dw);
      }
      at = conv_next(at, p.outH, p.outW);
      if (count > 2u) {
        v.z = conv_col(z, at, c.x, dh, dw);
      }
      at = conv_next(at, p.outH, p.outW);
      if (count > 3u) {
        v.w = conv_col(z, at, c.x, dh, dw);
      }
    }
    case 1u: { // dy[nb, oc, oh, ow] for input positions (nb, ih, iw).., k = (oc, kh, kw)
      let count = conv_count(n, p.n);
      let c = conv_divmod(k, khw);
      let hw = conv_divmod(c.y, p.kW);
      let dh = pad - i32(hw.x);
      let dw = pad - i32(hw.y);
      let t = conv_divmod(n, p.inH * p.inW);
      let o = conv_divmod(t.y, p.inW);
      var at = vec3<u32>(t.x, o.x, o.y);
      if (count > 0u) {
        v.x = conv_dy(at, c.x, dh, dw);
      }
      at = conv_next(at, p.inH, p.inW);
      if (count > 1u) {
        v.y = conv_dy(at, c.x, dh, dw);
      }
      at = conv_next(at, p.inH, p.inW);
      if (count > 2u) {
        v.z = conv_dy(at, c.x, dh, dw);
      }
      at = conv_next(at, p.inH, p.inW);
      if (count > 3u) {
        v.w = conv_dy(at, c.x, dh, dw);
      }
    }
    default: { // col(x)^T[(nb, oh, ow), k'..], 1 in the bias column
      let t = conv_divmod(k, p.outH * p.outW);
      let o = conv_divmod(t.y, p.outW);
      let s = i32(p.stride);
      let ih0 = i32(o.x) * s - pad;
      let iw0 = i32(o.y) * s - pad;
      let count = conv_count(n, kk);
      let c = conv_divmod(min(n, kk), khw);
      let hw = conv_divmod(c.y, p.kW);
      // taps (ic, kh, kw) follow along kw, wrapping into kh and ic
      var at = vec3<u32>(c.x, hw.x, hw.y);
      if (count > 0u) {
        v.x = conv_x(0u, t.x, at.x, ih0 + i32(at.y), iw0 + i32(at.z), false);
      }
      at = conv_next(at, p.kH, p.kW);
      if (count > 1u) {
        v.y = conv_x(0u, t.x, at.x, ih0 + i32(at.y), iw0 + i32(at.z), false);
      }
      at = conv_next(at, p.kH, p.kW);
      if (count > 2u) {
        v.z = conv_x(0u, t.x, at.x, ih0 + i32(at.y), iw0 + i32(at.z), false);
      }
      at = conv_next(at, p.kH, p.kW);
      if (count > 3u) {
        v.w = conv_x(0u, t.x, at.x, ih0 + i32(at.y), iw0 + i32(at.z), false);
      }
      v = select(v, vec4<f32>(1.0), n + vec4<u32>(0u, 1u, 2u, 3u) == vec4<u32>(kk));
    }
  }
  return v;
}

// B of the forward, of dx and of dW in shifted rows (register core, GEMM_B_CUSTOM; the host
// uses them when outW, respectively inW, is a multiple of 4, so no vec4 of pixels straddles
// a row). Packed rows run over (plane, nb, r), vec4s q over a row of the image:
//   forward and dW: planes (kw, ic) of S[kw][ic][nb][r][owq] = x[nb, ic, r - pad,
//     (4 owq + j) stride + kw - pad] for r < R = (outH - 1) stride + kH, then one plane of
//     ones (the bias row of B). B[(ic, kh, kw), (nb, oh, 4 owq ..)] = S[kw][ic][nb][oh stride
//     + kh][owq]: k picks the plane and kh, the pixels pick nb, oh stride and owq.
//   dx: planes (kw, oc) of T[kw][oc][nb][r][iwq] = dy at (th, tw) = (r - (kH - 1) + pad,
//     4 iwq + j + pad - kw) for r < inH + kH - 1, 0 where (th, tw) / stride is not an output
//     position. B[(oc, kh, kw), (nb, ih, 4 iwq ..)] = T[kw][oc][nb][ih + kH - 1 - kh][iwq].
// Each holds kW shifted copies of its source instead of the kH kW of the im2col matrix.
fn conv_shift_rows() -> u32 {
  if (MODE != 1u) {
    return (p.outH - 1u) * p.stride + p.kH;
  }
  return p.inH + p.kH - 1u;
}

fn gemm_b_pack(z: u32, row: u32, q: u32) -> vec4<f32> {
  let rows = conv_shift_rows();
  let pad = i32(p.pad);
  let rest = conv_divmod(row, rows); // (plane nb, r)
  let images = conv_divmod(rest.x, p.batch); // (plane, nb)
  var v = vec4<f32>(0.0);
  if (MODE != 1u) { // x, from binding 1 (forward) or 2 (dW)
    let fromA = MODE == 0u;
    let planes = conv_divmod(images.x, p.inC); // (kw, ic)
    if (planes.x >= p.kW) { // the bias plane
      return vec4<f32>(1.0);
    }
    let ih = i32(rest.y) - pad;
    let iw = i32(q * 4u * p.stride + planes.x) - pad;
    let s = i32(p.stride);
    v.x = conv_x(z, images.y, planes.y, ih, iw, fromA);
    v.y = conv_x(z, images.y, planes.y, ih, iw + s, fromA);
    v.z = conv_x(z, images.y, planes.y, ih, iw + 2 * s, fromA);
    v.w = conv_x(z, images.y, planes.y, ih, iw + 3 * s, fromA);
  } else {
    let planes = conv_divmod(images.x, p.outC); // (kw, oc)
    let dh = pad - i32(p.kH - 1u);
    let dw = pad - i32(planes.x);
    var at = vec3<u32>(images.y, rest.y, q * 4u);
    v.x = conv_dy(at, planes.y, dh, dw);
    at.z += 1u;
    v.y = conv_dy(at, planes.y, dh, dw);
    at.z += 1u;
    v.z = conv_dy(at, planes.y, dh, dw);
    at.z += 1u;
    v.w = conv_dy(at, planes.y, dh, dw);
  }
  return v;
}

// The packed row offset of plane `plane`, row r of image 0, in vec4s.
fn conv_shift_at(plane: u32, r: u32) -> u32 {
  let width = select(p.outW, p.inW, MODE == 1u) / 4u;
  return (plane * p.batch * conv_shift_rows() + r) * width;
}

// Tap k = (channel, kh, kw) as (plane, row within the image) of the shifted rows.
fn conv_shift_tap(k: u32) -> vec2<u32> {
  let khw = p.kH * p.kW;
  let channels = select(p.inC, p.outC, MODE == 1u);
  if (k >= channels * khw) { // the bias plane
    return vec2<u32>(p.kW * channels, 0u);
  }
  let c = conv_divmod(k, khw);
  let hw = conv_divmod(c.y, p.kW);
  if (MODE == 1u) {
    return vec2<u32>(hw.y * channels + c.x, p.kH - 1u - hw.x);
  }
  return vec2<u32>(hw.y * channels + c.x, hw.x);
}

// Pixel p4 (a multiple of 4) as the offset of its vec4 in plane 0 of the shifted rows.
fn conv_shift_pixel(p4: u32) -> u32 {
  let rows = conv_shift_rows();
  if (MODE == 1u) {
    let t = conv_divmod(p4, p.inH * p.inW);
    let o = conv_divmod(t.y, p.inW);
    return (t.x * rows + o.x) * (p.inW / 4u) + o.y / 4u;
  }
  let t = conv_divmod(p4, p.outH * p.outW);
  let o = conv_divmod(t.y, p.outW);
  return (t.x * rows + o.x * p.stride) * (p.outW / 4u) + o.y / 4u;
}

fn gemm_b_row(z: u32, k: u32) -> u32 {
  let tap = conv_shift_tap(k);
  return conv_shift_at(tap.x, tap.y);
}

fn gemm_b_col(z: u32, nq: u32) -> u32 {
  return conv_shift_pixel(nq * 4u);
}

// dW in the dot form (outW a multiple of 4): K runs over pixels (nb, oh, ow) in vec4s of
// four; A = dy read in place, B = x in shifted rows as the forward packs them, its bias
// column the plane of ones.
fn gemm_dot_a_k(z: u32, kq: u32) -> u32 {
  let ohw = p.outH * p.outW;
  let t = conv_divmod(kq * 4u, ohw);
  return (t.x * p.outC * ohw + t.y) / 4u;
}

fn gemm_dot_a_m(z: u32, m: u32) -> u32 {
  return m * (p.outH * p.outW / 4u);
}

fn gemm_dot_b_k(z: u32, kq: u32) -> u32 {
  return conv_shift_pixel(kq * 4u);
}

fn gemm_dot_b_n(z: u32, n: u32) -> u32 {
  let tap = conv_shift_tap(n);
  return conv_shift_at(tap.x, tap.y);
}
