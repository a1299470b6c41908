// Four values per invocation: a kernel written over `Value` and assembled after this file reads
// and writes vec4s, so its index arithmetic (integer division is scalar on CPU adapters) and
// storage accesses run once per four values. lanes1.wgsl is the scalar instance.

alias Value = vec4<f32>;
const LANES: u32 = 4u;

// The sum of v's lanes, pairwise.
fn lane_sum(v: Value) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

// Lane i of v in every lane.
fn lane_broadcast(v: Value, i: u32) -> Value {
  return Value(v[i]);
}
