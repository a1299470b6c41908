// The biases of G parameter points, [G, K]: table[g, k] = perturbed(g, bIndex + k, b[k]), for
// layers that add their bias after the product (a perturb_*.wgsl variant is prepended). One
// invocation per value, in workgroups of 64 folded past 65,535.

struct BiasTable {
  points: u32,
  outputs: u32, // K
  bAt: u32, // b[0] in binding 2
  bIndex: u32, // b[0] in the model's flat vector
}

@group(0) @binding(0) var<uniform> biasTableParams: BiasTable;
@group(0) @binding(2) var<storage, read> biasSource: array<f32>;
@group(0) @binding(3) var<storage, read_write> biasOut: array<f32>;

@compute @workgroup_size(64)
fn biasTable(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let p = biasTableParams;
  let i = invocation_index(wg, 64u, lid);
  if (i >= p.points * p.outputs) {
    return;
  }
  let k = i % p.outputs;
  biasOut[i] = perturbed(i / p.outputs, p.bIndex + k, biasSource[p.bAt + k]);
}
