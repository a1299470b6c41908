// Where an invocation of a compute dispatch stands. Past 65,535 workgroups per dimension the
// host folds a linear count into x and y (src/gpu/workgroups.ts), so the linear workgroup id is
// wid.x + wid.y * nwg.x; kernels return early for ids at or past the count they were given.

struct Invocation {
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
}

// The linear id of workgroup wid of a folded dispatch of nwg workgroups.
fn folded_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// The linear id of the invocation's workgroup.
fn workgroup_index(inv: Invocation) -> u32 {
  return folded_id(inv.wid, inv.nwg);
}

// The linear id of the invocation, in workgroups of `size` invocations.
fn invocation_index(inv: Invocation, size: u32) -> u32 {
  return workgroup_index(inv) * size + inv.lid;
}
