// Δk from the loss matrix l [T, n] and its row-wise inclusive prefix sums S [T, n]:
//   D[t, k - 1] = L_{k+1}(t) - L_k(t) = (l[t, k] - S[t, k - 1] / k) / (k + 1),  k = 1 .. n-1,
// the form that avoids subtracting two nearly equal float32 prefix means (which loses every
// digit once k is large). Also: per-row column permutations (the authors' reshuffling of the
// data order for every Monte-Carlo draw).

override WG: u32 = 256;

struct Params {
  rows: u32, // T
  n: u32, // samples per row
}

@group(0) @binding(0) var<uniform> p: Params;

// differences
@group(0) @binding(1) var<storage, read> losses: array<f32>; // [T, n]
@group(0) @binding(2) var<storage, read> prefix: array<f32>; // [T, n]
@group(0) @binding(3) var<storage, read_write> diffs: array<f32>; // [T, n - 1]

// permute
@group(0) @binding(1) var<storage, read> source: array<f32>; // [T, n]
@group(0) @binding(2) var<storage, read> order: array<u32>; // [T, n]
@group(0) @binding(3) var<storage, read_write> permuted: array<f32>; // [T, n]

@compute @workgroup_size(WG)
fn differences(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let e = invocation_index(wg, WG, lid);
  let m = p.n - 1u;
  if (e >= p.rows * m) {
    return;
  }
  let t = e / m;
  let k = e % m + 1u;
  let kf = f32(k);
  diffs[e] = (losses[t * p.n + k] - prefix[t * p.n + k - 1u] / kf) / (kf + 1.0);
}

@compute @workgroup_size(WG)
fn permute(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let e = invocation_index(wg, WG, lid);
  if (e >= p.rows * p.n) {
    return;
  }
  permuted[e] = source[(e / p.n) * p.n + order[e]];
}
