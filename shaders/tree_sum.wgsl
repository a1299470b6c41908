// Tree reductions in workgroup memory. The including shader declares `override WG: u32` (its
// workgroup size, a power of two) and `fn tree_combine(u: f32, v: f32) -> f32` (a sum, a max or
// a min); only the arrays a kernel uses count against its workgroup memory.

var<workgroup> treeA: array<f32, WG>;
var<workgroup> treeB: array<f32, WG>;

// Combines treeA (and treeB too, when `both`) over the workgroup after every invocation has
// stored its value at [lid]: the result is at [0], in the same order for every run.
fn tree_reduce(lid: u32, both: bool) {
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      treeA[lid] = tree_combine(treeA[lid], treeA[lid + s]);
      if (both) {
        treeB[lid] = tree_combine(treeB[lid], treeB[lid + s]);
      }
    }
    workgroupBarrier();
  }
}
