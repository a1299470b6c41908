// Roofline probe, memory: dst = src over storage buffers, one element per invocation, as the
// engine's element-wise kernels access memory. copy4 moves vec4<f32> (16 bytes per invocation),
// copy1 single f32 values. Bytes moved per dispatch = 2 * n * element size (read + write).
// Workgroups may be folded into two dimensions: linear id = wid.x + wid.y * nwg.x.

override WG: u32 = 256;

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> src4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst4: array<vec4<f32>>;

@group(0) @binding(1) var<storage, read> src1: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst1: array<f32>;

@compute @workgroup_size(WG)
fn copy4(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i < p.n) {
    dst4[i] = src4[i];
  }
}

@compute @workgroup_size(WG)
fn copy1(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i < p.n) {
    dst1[i] = src1[i];
  }
}
