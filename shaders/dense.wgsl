// Dense layer y = x W^T + b as products on the GEMM core (gemm.wgsl is prepended, and a
// perturb_*.wgsl variant that defines perturbed()). MODE picks the product:
//   0 forward  y[g] (B x OUT) = [x | 1] (B x IN+1) * [W | b]^T, W and b read at point g
//   1 dx       dx   (B x IN)  = dy (B x OUT) * W
//   2 dw, db   [dW | db] (OUT x IN+1) = dy^T (OUT x B) * [x | 1]
// The bias rides along as an extra column of K (forward) or N (gradients), so no kernel is
// needed for it. Bindings: 1 = a-side source, 2 = b-side source, 3 = destination. Parameters
// and gradients are views of the model's flat buffers, so W and b (and dW and db) sit in one
// binding at offsets wAt and bAt; wIndex and bIndex are their positions in the flat vector.

override MODE: u32 = 0;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  splits: u32,
  kChunk: u32,
  features: u32, // IN
  outputs: u32, // OUT
  batch: u32, // B, samples per group
  xGroupStride: u32, // elements between groups of x (0: one x shared by every point)
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

fn gemm_a(z: u32, m: u32, k: u32) -> f32 {
  switch MODE {
    case 0u: { // x[z][m, k], 1 in the bias column
      if (k == p.features) {
        return 1.0;
      }
      return srcA[z * p.xGroupStride + m * p.features + k];
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
    case 0u: { // W^T[k, n] = W[n, k] at point z; b[n] in the bias row
      if (k == p.features) {
        return perturbed(z, p.bIndex + n, srcB[p.bAt + n]);
      }
      let i = n * p.features + k;
      return perturbed(z, p.wIndex + i, srcB[p.wAt + i]);
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
      dst[(z * p.batch + m) * p.outputs + n] = v;
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
