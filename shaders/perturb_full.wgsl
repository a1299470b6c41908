// Parameter reads at Gaussian points w_t = w* + sigma * eps_t, eps_t ~ N(0, I): layers call
// perturbed(g, index, w*[index]) for point g of the dispatch and the parameter's position in
// the model's flat vector, and the noise is regenerated from the counter-based generator, so
// no perturbed copy of the weights is ever written. philox.wgsl is prepended.
// Noise of point t, parameter i = Philox(seed; block i / 4, stream t, domain 3), lane i % 4,
// through Box-Muller: the same numbers however points and parameters are split into dispatches.

struct PerturbFull {
  seedLo: u32,
  seedHi: u32,
  firstPoint: u32, // t of g = 0
  sigma: f32,
}

@group(0) @binding(12) var<uniform> perturbFull: PerturbFull;

fn perturbed(g: u32, index: u32, base: f32) -> f32 {
  let seed = vec2<u32>(perturbFull.seedLo, perturbFull.seedHi);
  let bits = philox_block(seed, perturbFull.firstPoint + g, 3u, index >> 2u);
  return base + perturbFull.sigma * philox_gaussian(bits, index & 3u);
}
