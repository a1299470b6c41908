// Adam (Kingma and Ba 2015) over the model's whole flat parameter vector in one dispatch,
// with PyTorch's arithmetic (torch.optim.Adam, single-tensor path, L2 weight decay):
//   g = grad + weightDecay * w
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   w -= stepSize * m / (sqrt(v) / sqrt(1 - beta2^t) + eps),  stepSize = lr / (1 - beta1^t)
// Scalars (1 - beta, bias corrections) are computed on the host in float64 and rounded once, as
// PyTorch does: 1 - beta2 formed in f32 would be off by 1e-5 relative.

override WG: u32 = 256;

struct Params {
  n: u32,
  beta1: f32,
  beta2: f32,
  oneMinusBeta1: f32,
  oneMinusBeta2: f32,
  eps: f32,
  stepSize: f32,
  correction2Sqrt: f32,
  weightDecay: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> weights: array<f32>;
@group(0) @binding(2) var<storage, read> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(WG)
fn step(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, WG, lid);
  if (i >= p.n) {
    return;
  }
  var g = grads[i];
  if (p.weightDecay != 0.0) {
    g += p.weightDecay * weights[i];
  }
  let mi = p.beta1 * m[i] + p.oneMinusBeta1 * g;
  let vi = p.beta2 * v[i] + p.oneMinusBeta2 * g * g;
  m[i] = mi;
  v[i] = vi;
  weights[i] -= p.stepSize * (mi / (sqrt(vi) / p.correction2Sqrt + p.eps));
}
