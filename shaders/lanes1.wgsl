// One value per invocation: the scalar instance of a kernel written over `Value` (lanes4.wgsl is
// the vec4 instance). A kernel assembled after one of the two runs LANES values per invocation.

alias Value = f32;
const LANES: u32 = 1u;

// The sum of v's lanes.
fn lane_sum(v: Value) -> f32 {
  return v;
}

// Lane i of v in every lane.
fn lane_broadcast(v: Value, i: u32) -> Value {
  return v;
}
