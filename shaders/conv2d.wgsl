// 2D convolution (NCHW, any kernel size, stride and zero padding) as implicit GEMM on the
// GEMM core (gemm.wgsl is prepended, and a perturb_*.wgsl variant). Nothing is unfolded into
// memory: the im2col matrix is gathered element by element as tiles are staged. MODE:
//   0 forward  y[g] (OC x NB*OH*OW) = [W | b] (OC x K+1) * [col(x) ; 1], W and b at point g
//   1 dx       dx (IC x NB*IH*IW) = W' (IC x OC*KH*KW) * dy gathered by output position
//   2 dw, db   [dW | db] (OC x K+1) = dy (OC x NB*OH*OW) * [col(x) ; 1]^T
// with K = IC*KH*KW, col(x)[(ic, kh, kw), (n, oh, ow)] = x[n, ic, oh*S + kh - P, ow*S + kw - P].
// Bindings: 1 = x (forward) or dy, 2 = parameters (forward, dx) or x (dw), 3 = destination.

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
      dst[((z * p.batch + n / ohw) * p.outC + m) * ohw + n % ohw] = v;
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
