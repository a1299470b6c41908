// Batch normalization with PyTorch semantics over activations [groups, batch, C, S]: S = 1 for
// per-feature input [F] (BatchNorm1d), S = H * W for per-channel input [C, H, W] (BatchNorm2d).
// A channel's n = batch * S values lie in `batch` runs of S, C * S apart.
//
// Training (one group):
//   partialSum                  per-(channel, chunk) partial sums of x, then of (x - mean)^2
//                               (two passes: no E[x^2] - E[x]^2 cancellation); the host sums
//                               the partials (ops/reduce), so no invocation loops over a whole
//                               channel (lavapipe stops an invocation after 65,535 iterations).
//   trainCoefficients           per channel: coefficients and the updated running statistics.
//   normalize                   y = (x - mean) * scale + shift, LANES values per invocation.
// Evaluation: evalCoefficients reads gamma and beta through perturbed() for each parameter
// point g (the file is assembled after a perturb_*.wgsl), then normalize.
// Backward: partialBackward (partial sums of dy and dy * xhat), then backwardInput (dx).
//
// Values per invocation: the file is assembled after lanes1.wgsl or lanes4.wgsl, so `Value` is
// f32 or vec4<f32> (LANES = 1 or 4) in x, dy and the element-wise passes' y. Four lanes need
// C % 4 == 0 and S % 4 == 0 or S == 1 in normalize and backwardInput, where a vec4 then holds one
// channel at four positions (S % 4 == 0) or four channels at one position (S == 1), and
// S % 4 == 0 in the partial sums.
//
// Coefficients, [G, 4, C]: mean, invstd, scale = gamma * invstd, shift = beta (of point g).
// Parameters are bound from an aligned byte offset at or before their first element, which
// sits p.gammaAt (betaAt, meanAt, varAt) elements into the binding.

override WG: u32 = 256; // power of two
override ITEMS: u32 = 16; // Values per invocation in the partial-sum passes
override SQUARES: u32 = 0; // partialSum: 0 sums x, 1 sums (x - mean)^2

struct Params {
  groups: u32, // G, groups of the output
  batch: u32,
  channels: u32,
  spatial: u32, // S
  chunks: u32, // partial sums per channel
  xGroupStride: u32, // elements between groups of x: 0 when every point reads one input
  gammaAt: u32,
  betaAt: u32,
  meanAt: u32,
  varAt: u32,
  gammaIndex: u32, // position of gamma[0] in the model's flat trainable vector
  betaIndex: u32,
  eps: f32,
  momentum: f32,
  invCount: f32, // 1 / n
  invCountM1: f32, // 1 / (n - 1), for the unbiased running variance
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<Value>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // coefficients, partial sums
@group(0) @binding(2) var<storage, read_write> y: array<Value>; // normalize, backwardInput
@group(0) @binding(3) var<storage, read> sums: array<f32>;
@group(0) @binding(3) var<storage, read> sumsV: array<Value>;
@group(0) @binding(4) var<storage, read> dy: array<Value>;
@group(0) @binding(5) var<storage, read> coef: array<f32>;
@group(0) @binding(5) var<storage, read> coefV: array<Value>;
@group(0) @binding(6) var<storage, read> squares: array<f32>;
@group(0) @binding(7) var<storage, read> gammaW: array<f32>;
@group(0) @binding(8) var<storage, read> betaW: array<f32>;
@group(0) @binding(9) var<storage, read> runMean: array<f32>;
@group(0) @binding(10) var<storage, read> runVar: array<f32>;
@group(0) @binding(11) var<storage, read_write> running: array<f32>;

// Value j (< batch * S / LANES) of channel c, for S % LANES == 0.
fn channelElement(c: u32, j: u32) -> u32 {
  let s = p.spatial / LANES;
  let b = j / s;
  return (b * p.channels + c) * s + (j - b * s);
}

// Values of one channel that a partial-sum pass reads.
fn channelValues() -> u32 {
  return p.batch * p.spatial / LANES;
}

// What partialSum subtracts before summing: 0, or the mean of channel c.
fn centre(c: u32) -> f32 {
  if (SQUARES == 0u) {
    return 0.0;
  }
  return sums[c] * p.invCount;
}

// What partialSum adds for a centred value.
fn moment(d: Value) -> Value {
  return select(d, d * d, SQUARES == 1u);
}

fn tree_combine(u: f32, v: f32) -> f32 {
  return u + v;
}

// Value j of its channel that invocation lid takes in step k of partial-sum workgroup w: chunk
// w % chunks of the channel, WG * ITEMS values read coalesced.
fn chunkValue(w: u32, k: u32, lid: u32) -> u32 {
  return (w % p.chunks) * WG * ITEMS + k * WG + lid;
}

// Sums a partial-sum workgroup's values a (and b, when `both`) and stores them as partial w
// of the first row of out (and of the second, C * chunks further).
fn storePartials(lid: u32, w: u32, a: f32, b: f32, both: bool) {
  treeA[lid] = a;
  treeB[lid] = b;
  tree_reduce(lid, both);
  if (lid == 0u) {
    out[w] = treeA[0];
    if (both) {
      out[p.channels * p.chunks + w] = treeB[0];
    }
  }
}

// x normalised with the batch statistics of channel c held in the coefficients.
fn xhat(c: u32, v: Value) -> Value {
  return (v - coef[c]) * coef[p.channels + c];
}

// First channel of the LANES values from LANES * r on (within a group).
fn channelOf(r: u32) -> u32 {
  return ((LANES * r) / p.spatial) % p.channels;
}

// The per-channel entries for the LANES values from channel c on, v being the Value of a
// per-channel row that holds entry c: v itself when its lanes are the values' channels (one
// lane, or four channels at one position, S == 1), else entry c in every lane.
fn spread(v: Value, c: u32) -> Value {
  if (LANES == 1u || p.spatial == 1u) {
    return v;
  }
  return lane_broadcast(v, c % LANES);
}

// Partial sums of x (SQUARES = 0), or of (x - mean)^2 with mean = sums[c] / n (SQUARES = 1):
// out[c * chunks + k] for chunk k of channel c.
@compute @workgroup_size(WG)
fn partialSum(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let w = workgroup_index(wg);
  if (w >= p.channels * p.chunks) {
    return;
  }
  let c = w / p.chunks;
  let mean = centre(c);
  var v = Value(0.0);
  for (var k = 0u; k < ITEMS; k++) {
    let j = chunkValue(w, k, lid);
    if (j < channelValues()) {
      v += moment(x[channelElement(c, j)] - mean);
    }
  }
  storePartials(lid, w, lane_sum(v), 0.0, false);
}

// One invocation per channel: batch mean and biased variance to coefficients [4, C] (out), and
// the running statistics updated as PyTorch does (unbiased variance) to running [2, C].
@compute @workgroup_size(WG)
fn trainCoefficients(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let c = invocation_index(wg, WG, lid);
  let C = p.channels;
  if (c >= C) {
    return;
  }
  let mean = sums[c] * p.invCount;
  let invstd = inverseSqrt(squares[c] * p.invCount + p.eps);
  out[c] = mean;
  out[C + c] = invstd;
  out[2u * C + c] = gammaW[p.gammaAt + c] * invstd;
  out[3u * C + c] = betaW[p.betaAt + c];
  let m = p.momentum;
  running[c] = (1.0 - m) * runMean[p.meanAt + c] + m * mean;
  running[C + c] = (1.0 - m) * runVar[p.varAt + c] + m * (squares[c] * p.invCountM1);
}

// One invocation per (point g, channel c): running statistics, gamma and beta of point g.
@compute @workgroup_size(WG)
fn evalCoefficients(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, WG, lid);
  let C = p.channels;
  if (i >= p.groups * C) {
    return;
  }
  let g = i / C;
  let c = i - g * C;
  let invstd = inverseSqrt(runVar[p.varAt + c] + p.eps);
  let gamma = perturbed(g, p.gammaIndex + c, gammaW[p.gammaAt + c]);
  let beta = perturbed(g, p.betaIndex + c, betaW[p.betaAt + c]);
  let base = g * 4u * C;
  out[base + c] = runMean[p.meanAt + c];
  out[base + C + c] = invstd;
  out[base + 2u * C + c] = gamma * invstd;
  out[base + 3u * C + c] = beta;
}

// y[g, b, c, s] = (x[g or 0, b, c, s] - mean[c]) * scale[g, c] + shift[g, c], LANES values per
// invocation.
@compute @workgroup_size(WG)
fn normalize(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, WG, lid);
  let C = p.channels;
  let perGroup = p.batch * C * p.spatial / LANES;
  if (i >= p.groups * perGroup) {
    return;
  }
  let g = i / perGroup;
  let r = i - g * perGroup;
  let c = channelOf(r);
  let at = (g * 4u * C + c) / LANES; // coefficients of point g, channel c
  let q = C / LANES;
  y[i] = (x[g * p.xGroupStride / LANES + r] - spread(coefV[at], c)) *
    spread(coefV[at + 2u * q], c) + spread(coefV[at + 3u * q], c);
}

// Partial sums of dy (out[c * chunks + k]) and of dy * xhat (out[(C + c) * chunks + k]).
@compute @workgroup_size(WG)
fn partialBackward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let w = workgroup_index(wg);
  let C = p.channels;
  if (w >= C * p.chunks) {
    return;
  }
  let c = w / p.chunks;
  var sdy = Value(0.0);
  var sdyx = Value(0.0);
  for (var k = 0u; k < ITEMS; k++) {
    let j = chunkValue(w, k, lid);
    if (j < channelValues()) {
      let e = channelElement(c, j);
      let g = dy[e];
      sdy += g;
      sdyx += g * xhat(c, x[e]);
    }
  }
  storePartials(lid, w, lane_sum(sdy), lane_sum(sdyx), true);
}

// dx = gamma * invstd * (dy - sum(dy) / n - xhat * sum(dy * xhat) / n), LANES values per
// invocation; sums = [2, C].
@compute @workgroup_size(WG)
fn backwardInput(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, WG, lid);
  let C = p.channels;
  if (i >= p.batch * C * p.spatial / LANES) {
    return;
  }
  let c = channelOf(i);
  let at = c / LANES;
  let q = C / LANES;
  let normalized = (x[i] - spread(coefV[at], c)) * spread(coefV[at + q], c);
  let meanDy = spread(sumsV[at], c) * p.invCount;
  let meanDyXhat = spread(sumsV[at + q], c) * p.invCount;
  y[i] = spread(coefV[at + 2u * q], c) * ((dy[i] - meanDy) - normalized * meanDyXhat);
}
