// ReLU over flat f32 arrays, with PyTorch's semantics: y = x for x > 0, else 0 (NaN passes
// through); the gradient is dy where x > 0 and 0 elsewhere, so 0 at x = 0 (NaN x passes dy,
// as PyTorch's threshold_backward does).
// Workgroups may be folded into two dimensions: linear id = wid.x + wid.y * nwg.x.

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

fn index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn reluForward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = index(wid, nwg, lid);
  if (i < p.n) {
    let v = fx[i];
    fy[i] = select(v, 0.0, v <= 0.0);
  }
}

@compute @workgroup_size(WG)
fn reluBackward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = index(wid, nwg, lid);
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
fn reluForward4(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = index(wid, nwg, lid);
  if (i < p.n) {
    let v = fx4[i];
    fy4[i] = select(v, vec4<f32>(0.0), v <= vec4<f32>(0.0));
  }
}

@compute @workgroup_size(WG)
fn reluBackward4(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = index(wid, nwg, lid);
  if (i < p.n) {
    bdx4[i] = select(bdy4[i], vec4<f32>(0.0), bx4[i] <= vec4<f32>(0.0));
  }
}
