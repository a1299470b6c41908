// What both GEMM cores share: the product's shape, which the layer's gemm_shape() returns
// (kChunk, the part of K one invocation covers, is a multiple of 16), and the split-K sum: each
// split's product lands in gemmPartials [slice][split][m][n], and gemmSum adds the splits in
// order and stores through the layer's gemm_store.

struct GemmShape {
  m: u32,
  n: u32,
  k: u32,
  splits: u32,
  kChunk: u32,
}

@group(0) @binding(11) var<storage, read_write> gemmPartials: array<f32>;

// One invocation per element of C (all slices), in workgroups of 256, folded past 65,535.
@compute @workgroup_size(256)
fn gemmSum(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let s = gemm_shape();
  let e = invocation_index(wg, 256u, lid);
  let mn = s.m * s.n;
  let z = e / mn;
  let rem = e % mn;
  if (z >= arrayLength(&gemmPartials) / (mn * s.splits)) {
    return;
  }
  var total = 0.0;
  for (var split = 0u; split < s.splits; split++) {
    total += gemmPartials[(z * s.splits + split) * mn + rem];
  }
  gemm_store(z, rem / s.n, rem % s.n, total);
}
