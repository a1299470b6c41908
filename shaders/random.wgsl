// Random fills from the Philox generator (philox.wgsl is prepended). Invocation t produces the
// four values of block first + t, so out[i] depends on (seed, stream, domain, offset + i) only.

override WG: u32 = 256;

struct Params {
  n: u32,
  offset: u32, // index of out[0] in the stream
  seedLo: u32,
  seedHi: u32,
  stream: u32,
  domain: u32,
  a: f32, // uniform: low; normal: mean
  b: f32, // uniform: high; normal: standard deviation
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

fn blockOf(wg: Workgroup, lid: u32) -> u32 {
  return p.offset / 4u + invocation_index(wg, WG, lid);
}

fn store(block: u32, values: vec4<f32>) {
  for (var j = 0u; j < 4u; j++) {
    let e = block * 4u + j;
    if (e >= p.offset && e - p.offset < p.n) {
      out[e - p.offset] = values[j];
    }
  }
}

@compute @workgroup_size(WG)
fn fillUniform(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let block = blockOf(wg, lid);
  let bits = philox_block(vec2<u32>(p.seedLo, p.seedHi), p.stream, p.domain, block);
  let u = vec4<f32>(philox_unit(bits.x), philox_unit(bits.y), philox_unit(bits.z), philox_unit(bits.w));
  store(block, p.a + (p.b - p.a) * u);
}

@compute @workgroup_size(WG)
fn fillNormal(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let block = blockOf(wg, lid);
  let bits = philox_block(vec2<u32>(p.seedLo, p.seedHi), p.stream, p.domain, block);
  store(block, p.a + p.b * philox_gaussian4(bits));
}
