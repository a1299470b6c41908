// Parameter reads, unperturbed: the variant layers are assembled with for training and for
// ordinary evaluation. Same signature as perturb_full.wgsl and perturb_subspace.wgsl.

fn perturbed(g: u32, index: u32, base: f32) -> f32 {
  return base;
}

// Four consecutive parameters index .. index + 3.
fn perturbed4(g: u32, index: u32, base: vec4<f32>) -> vec4<f32> {
  return base;
}
