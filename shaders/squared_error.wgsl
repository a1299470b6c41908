// Squared error l = 1/2 sum_o (prediction_o - target_o)^2 per sample, for G parameter points
// sharing one target per sample, and the gradient of the batch mean (G = 1). Used for models
// whose per-sample losses are exactly quadratic in the weights (linear least squares), where
// the Δk closed form can be checked exactly.

override WG: u32 = 256;

struct Params {
  rows: u32, // G * B
  batch: u32, // B
  outputs: u32, // O
  scale: f32, // 1 / B for the gradient
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> prediction: array<f32>; // [G, B, O]
@group(0) @binding(2) var<storage, read> targets: array<f32>; // [B, O]
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // forward [G, B]; backward [B, O]

@compute @workgroup_size(WG)
fn forward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let r = invocation_index(wg, WG, lid);
  if (r >= p.rows) {
    return;
  }
  let t = (r % p.batch) * p.outputs;
  var s = 0.0;
  for (var o = 0u; o < p.outputs; o++) {
    let e = prediction[r * p.outputs + o] - targets[t + o];
    s = fma(e, e, s);
  }
  out[r] = 0.5 * s;
}

@compute @workgroup_size(WG)
fn backward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, WG, lid);
  if (i >= p.batch * p.outputs) {
    return;
  }
  out[i] = (prediction[i] - targets[i]) * p.scale;
}
