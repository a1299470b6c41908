// Parameter reads at points of a subspace, w_g = w* + sum_j a[g, j] d_j: for `dim` directions
// (random, filter-normalized, or two of them for a 2D landscape grid). Same signature as
// perturb_none.wgsl; the perturbation is formed on the fly, never stored.
// Layouts, dim padded to a multiple of 4 (padding zero):
//   directions   [N, dim4] vec4: d_j[i] at directions[i * dim4 + j / 4][j % 4]
//   coefficients [G, dim4] vec4: a[g, j] likewise

struct PerturbSubspace {
  dim4: u32,
}

@group(0) @binding(12) var<uniform> perturbSubspace: PerturbSubspace;
@group(0) @binding(13) var<storage, read> perturbDirections: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read> perturbCoefficients: array<vec4<f32>>;

// w + a . d as four fma() in order. Each weight is one chain of them from its base, in j order:
// a driver that specialises the loop on dim4 and unrolls it (lavapipe does, depending on the
// values a pipeline saw first) cannot regroup it, so the rounding is the same whichever
// compilation runs. Zero padding adds 0.
fn perturb_step(w: f32, a: vec4<f32>, d: vec4<f32>) -> f32 {
  return fma(a.w, d.w, fma(a.z, d.z, fma(a.y, d.y, fma(a.x, d.x, w))));
}

fn perturbed(g: u32, index: u32, base: f32) -> f32 {
  let dim4 = perturbSubspace.dim4;
  var w = base;
  for (var j = 0u; j < dim4; j++) {
    w = perturb_step(w, perturbCoefficients[g * dim4 + j], perturbDirections[index * dim4 + j]);
  }
  return w;
}

// Four consecutive parameters index .. index + 3, each the chain perturbed() forms; the
// coefficients are read once for the four.
fn perturbed4(g: u32, index: u32, base: vec4<f32>) -> vec4<f32> {
  let dim4 = perturbSubspace.dim4;
  var w = base;
  for (var j = 0u; j < dim4; j++) {
    let a = perturbCoefficients[g * dim4 + j];
    let at = index * dim4 + j;
    w = vec4<f32>(
      perturb_step(w.x, a, perturbDirections[at]),
      perturb_step(w.y, a, perturbDirections[at + dim4]),
      perturb_step(w.z, a, perturbDirections[at + 2u * dim4]),
      perturb_step(w.w, a, perturbDirections[at + 3u * dim4]),
    );
  }
  return w;
}
