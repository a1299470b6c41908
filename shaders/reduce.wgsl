// Row reductions: input [rows, n] -> output [rows, chunks], one partial per workgroup.
// Each invocation reads ITEMS values and the workgroup combines them in a tree, so no
// invocation loops more than ITEMS + log2(WG) times (lavapipe stops loops at 65,535
// iterations); the host repeats passes until one value per row is left.

override WG: u32 = 256; // power of two
override ITEMS: u32 = 8;
override OP: u32 = 0; // 0 sum, 1 max, 2 min

struct Params {
  n: u32,
  rows: u32,
  chunks: u32,
  scale: f32, // applied to sums in the last pass (1 / n for a mean)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

fn identity() -> f32 {
  switch OP {
    case 1u: { return -3.4028234663852886e38; }
    case 2u: { return 3.4028234663852886e38; }
    default: { return 0.0; }
  }
}

fn tree_combine(u: f32, v: f32) -> f32 {
  switch OP {
    case 1u: { return max(u, v); }
    case 2u: { return min(u, v); }
    default: { return u + v; }
  }
}

@compute @workgroup_size(WG)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let g = workgroup_index(wg);
  if (g >= p.rows * p.chunks) {
    return;
  }
  let row = g / p.chunks;
  let chunk = g % p.chunks;
  let start = chunk * WG * ITEMS;
  var v = identity();
  for (var k = 0u; k < ITEMS; k++) {
    let i = start + k * WG + lid;
    if (i < p.n) {
      v = tree_combine(v, input[row * p.n + i]);
    }
  }
  treeA[lid] = v;
  tree_reduce(lid, false);
  if (lid == 0u) {
    var r = treeA[0];
    if (OP == 0u) {
      r *= p.scale;
    }
    output[g] = r;
  }
}
