// ReLU over flat f32 arrays, with PyTorch's semantics: y = x for x > 0, else 0 (NaN passes
// through); the gradient is dy where x > 0 and 0 elsewhere, so 0 at x = 0 (NaN x passes dy,
// as PyTorch's threshold_backward does).

override WG: u32 = 256;

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// reluForward: y = relu(x)
@group(0) @binding(1) var<storage, read> fx: array<f32>;
@group(0) @binding(2) var<storage, read_write> fy: array<f32>;

// reluBackward: dx = dy * (x > 0)
@group(0) @binding(1) var<storage, read> bx: array<f32>;
@group(0) @binding(2) var<storage, read> bdy: array<f32>;
@group(0) @binding(3) var<storage, read_write> bdx: array<f32>;

@compute @workgroup_size(WG)
fn reluForward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, WG, lid);
  if (i < p.n) {
    let v = fx[i];
    fy[i] = select(v, 0.0, v <= 0.0);
  }
}

@compute @workgroup_size(WG)
fn reluBackward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, WG, lid);
  if (i < p.n) {
    bdx[i] = select(bdy[i], 0.0, bx[i] <= 0.0);
  }
}

// The same four values at a time (n % 4 == 0; p.n counts vec4s): a third of the storage
// accesses on adapters that run shaders on the CPU.
@group(0) @binding(1) var<storage, read> fx4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> fy4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> bx4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bdy4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> bdx4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn reluForward4(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, WG, lid);
  if (i < p.n) {
    let v = fx4[i];
    fy4[i] = select(v, vec4<f32>(0.0), v <= vec4<f32>(0.0));
  }
}

@compute @workgroup_size(WG)
fn reluBackward4(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, WG, lid);
  if (i < p.n) {
    bdx4[i] = select(bdy4[i], vec4<f32>(0.0), bx4[i] <= vec4<f32>(0.0));
  }
}
