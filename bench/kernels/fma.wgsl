// Roofline probe, arithmetic: every invocation runs 3 independent vec4 multiply-add chains
// (12 scalar chains) for p.iterations loop trips of 16 steps each, entirely in registers, then
// stores one value so the work stays live. a and b come from the uniform, so nothing folds at
// compile time; with a < 1 the chains converge to b / (1 - a) and never overflow.
// FLOPs per dispatch = invocations * iterations * 16 steps * 12 chains * 2.
//
// The shape is what reaches the FMA peak on lavapipe (measured, 2-vCPU Xeon, AVX2): llvmpipe
// runs 8 invocations per 256-bit register, so a vec4 chain occupies 4 of the 16 ymm registers;
// 3 chains (12 registers, plus a and b) stay in registers while 4 or more spill (2-3x slower),
// and every loop trip costs about as much as tens of FMAs, hence the 16 steps written out per
// trip (a nested constant loop is not unrolled and runs 3-8x slower). On GPUs 12 independent
// chains per invocation are plenty of instruction-level parallelism.
// Workgroups may be folded into two dimensions: linear id = wid.x + wid.y * nwg.x.

override WG: u32 = 64;

struct Params {
  iterations: u32,
  a: f32,
  b: f32,
  invocations: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> sink: array<f32>;

@compute @workgroup_size(WG)
fn fmaPeak(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.invocations) {
    return;
  }
  let s = f32(i & 1023u) * 1e-3;
  let a = vec4<f32>(p.a);
  let b = vec4<f32>(p.b);
  var x0 = vec4<f32>(s, s + 0.1, s + 0.2, s + 0.3);
  var x1 = x0 + 0.01;
  var x2 = x0 + 0.02;
  for (var k = 0u; k < p.iterations; k++) {
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
  }
  let t = x0 + x1 + x2;
  sink[i] = t.x + t.y + t.z + t.w;
}
