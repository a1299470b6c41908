// Test kernel: raw Philox4x32-10 words for arbitrary counters and keys.
// cases[6 i .. 6 i + 5] = counter (4 words), key (2 words); words[4 i .. 4 i + 3] = output.

@group(0) @binding(1) var<storage, read> cases: array<u32>;
@group(0) @binding(2) var<storage, read_write> words: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= arrayLength(&cases) / 6u) {
    return;
  }
  let c = vec4<u32>(cases[6u * i], cases[6u * i + 1u], cases[6u * i + 2u], cases[6u * i + 3u]);
  let k = vec2<u32>(cases[6u * i + 4u], cases[6u * i + 5u]);
  let w = philox4x32_10(c, k);
  for (var j = 0u; j < 4u; j++) {
    words[4u * i + j] = w[j];
  }
}
