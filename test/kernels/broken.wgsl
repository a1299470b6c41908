// Deliberately broken: line 6 assigns a float to a u32. Used to test error reporting.

@compute @workgroup_size(1)
fn main() {
  let bits = philox_block(vec2<u32>(0u, 0u), 0u, 0u, 0u);
  let x: u32 = philox_unit(bits.x);
}
