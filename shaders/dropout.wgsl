// Inverted dropout (philox.wgsl is prepended). The mask is never stored: element i is kept iff
// philox_unit(word i % 4 of philox_block_sub(seed, stream, substream, domain, i / 4)) > p, so
// P(keep) = 1 - p, and forward and backward regenerate the same mask. The engine keys it by
// stream = training step and substream = the layer's salt.
// out = in * (kept ? scale : 0), scale = 1 / (1 - p): a multiplication, as in PyTorch, so NaN
// and infinity in dropped elements still give NaN. The same kernel serves forward (x -> y)
// and backward (dy -> dx). Invocation t handles the four elements of block t (folded
// workgroups: linear id = wid.x + wid.y * nwg.x).

override WG: u32 = 256;

struct Params {
  n: u32,
  seedLo: u32,
  seedHi: u32,
  stream: u32,
  substream: u32,
  domain: u32,
  p: f32, // drop probability: dropped iff unit <= p
  scale: f32, // 1 / (1 - p), rounded to f32
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(WG)
fn apply(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let block = invocation_index(wg, WG, lid);
  // p.n >= 1 (the host skips empty tensors); this form cannot overflow.
  if (block > (p.n - 1u) / 4u) {
    return;
  }
  let bits = philox_block_sub(vec2<u32>(p.seedLo, p.seedHi), p.stream, p.substream, p.domain, block);
  for (var j = 0u; j < 4u; j++) {
    let e = block * 4u + j;
    if (e < p.n) {
      let factor = select(0.0, p.scale, philox_unit(bits[j]) > p.p);
      output[e] = input[e] * factor;
    }
  }
}
