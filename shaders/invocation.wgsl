// Where a workgroup of a compute dispatch stands. Past 65,535 workgroups per dimension the
// host folds a linear count into x and y (src/gpu/workgroups.ts), so the linear workgroup id is
// id.x + id.y * count.x; kernels return early for ids at or past the count they were given.
// The struct holds only workgroup-uniform builtins: with local_invocation_index in it too,
// Chromium's uniformity analysis would take every id derived from it as non-uniform and refuse
// the barriers after an early return. Kernels take `@builtin(local_invocation_index) lid`
// beside it.

struct Workgroup {
  @builtin(workgroup_id) id: vec3<u32>,
  @builtin(num_workgroups) count: vec3<u32>,
}

// The linear id of workgroup `id` of a folded dispatch of `count` workgroups.
fn folded_id(id: vec3<u32>, count: vec3<u32>) -> u32 {
  return id.x + id.y * count.x;
}

// The linear id of the workgroup.
fn workgroup_index(wg: Workgroup) -> u32 {
  return folded_id(wg.id, wg.count);
}

// The linear id of invocation `lid` of the workgroup, in workgroups of `size` invocations.
fn invocation_index(wg: Workgroup, size: u32, lid: u32) -> u32 {
  return workgroup_index(wg) * size + lid;
}
