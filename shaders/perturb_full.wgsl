// Parameter reads at Gaussian points w_t = w* + sigma * eps_t, eps_t ~ N(0, I): layers call
// perturbed(g, index, w*[index]) for point g of the dispatch and the parameter's position in
// the model's flat vector, and the noise is regenerated from the counter-based generator, so
// no perturbed copy of the weights is ever written. philox.wgsl is prepended.
// Noise of point t, parameter i = Philox(seed; block i / 4, stream t, domain 3), lane i % 4,
// through Box-Muller: the same numbers however points and parameters are split into dispatches.
// Antithetic sets pair the points: 2p and 2p + 1 are w* + sigma * eps_p and w* - sigma * eps_p,
// one draw keyed by the pair p (so every odd term in eps cancels within a pair).

struct PerturbFull {
  seedLo: u32,
  seedHi: u32,
  firstPoint: u32, // t of g = 0
  sigma: f32,
  antithetic: u32, // 1: points come in pairs w* ± sigma * eps_p
}

@group(0) @binding(12) var<uniform> perturbFull: PerturbFull;

// The Philox stream of point g of the dispatch, and the step sigma * sign it takes along it.
fn perturbStream(g: u32) -> u32 {
  let t = perturbFull.firstPoint + g;
  return select(t, t >> 1u, perturbFull.antithetic != 0u);
}

fn perturbStep(g: u32) -> f32 {
  let odd = perturbFull.antithetic != 0u && ((perturbFull.firstPoint + g) & 1u) == 1u;
  return select(perturbFull.sigma, -perturbFull.sigma, odd);
}

fn perturbed(g: u32, index: u32, base: f32) -> f32 {
  let seed = vec2<u32>(perturbFull.seedLo, perturbFull.seedHi);
  let bits = philox_block(seed, perturbStream(g), 3u, index >> 2u);
  return base + perturbStep(g) * philox_gaussian(bits, index & 3u);
}

// Four consecutive parameters index .. index + 3: the four normals of one Philox block when
// index % 4 == 0, else the words of two blocks; the same numbers as four perturbed() calls
// at a quarter or half of the cost.
fn perturbed4(g: u32, index: u32, base: vec4<f32>) -> vec4<f32> {
  let seed = vec2<u32>(perturbFull.seedLo, perturbFull.seedHi);
  let stream = perturbStream(g);
  let step = perturbStep(g);
  let block = index >> 2u;
  let lo = philox_gaussian4(philox_block(seed, stream, 3u, block));
  let shift = index & 3u;
  if (shift == 0u) {
    return base + step * lo;
  }
  let hi = philox_gaussian4(philox_block(seed, stream, 3u, block + 1u));
  var eps = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    let word = shift + j;
    eps[j] = select(lo[word & 3u], hi[word & 3u], word >= 4u);
  }
  return base + step * eps;
}
