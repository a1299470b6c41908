// Softmax cross-entropy over logits [rows = G * B, C] with labels [B] shared by the G groups
// (row r uses label r % B). One invocation per row loops over its C classes (the host bounds
// C, for lavapipe's 65,535-iteration cap). Log-sum-exp is shifted by the row max, so logits of
// any magnitude give finite losses.
// A label >= C cannot be checked by the host without a readback: such a row gets a NaN loss
// and a NaN gradient row, so divergence checks catch it, and never counts as correct.

override WG: u32 = 256;

struct Params {
  rows: u32, // G * B
  batch: u32, // B
  classes: u32, // C
  nanBits: u32, // 0x7fc00000: a NaN, passed at run time (a NaN constant does not compile)
  scale: f32, // backward: 1 / B, the gradient of the mean
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;

// forward: per-row losses; backward: dlogits [B, C]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
// correct: one count per group, accumulated atomically (zeroed by the host)
@group(0) @binding(3) var<storage, read_write> counts: array<atomic<u32>>;

var<workgroup> hits: atomic<u32>;

fn rowMax(base: u32) -> f32 {
  var m = logits[base];
  for (var c = 1u; c < p.classes; c++) {
    m = max(m, logits[base + c]);
  }
  return m;
}

fn sumExp(base: u32, m: f32) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < p.classes; c++) {
    s += exp(logits[base + c] - m);
  }
  return s;
}

@compute @workgroup_size(WG)
fn forward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let r = invocation_index(wg, WG, lid);
  if (r >= p.rows) {
    return;
  }
  let label = labels[r % p.batch];
  let base = r * p.classes;
  let m = rowMax(base);
  let s = sumExp(base, m);
  // -log softmax[label] = log(s) - (x[label] - m)
  let picked = logits[base + min(label, p.classes - 1u)] - m;
  let loss = log(s) - picked;
  out[r] = select(loss, bitcast<f32>(p.nanBits), label >= p.classes);
}

// Gradient of the mean loss over B rows (G = 1): (softmax - onehot) / B.
@compute @workgroup_size(WG)
fn backward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let r = invocation_index(wg, WG, lid);
  if (r >= p.rows) {
    return;
  }
  let label = labels[r % p.batch];
  let base = r * p.classes;
  let m = rowMax(base);
  let s = sumExp(base, m);
  let bad = label >= p.classes;
  for (var c = 0u; c < p.classes; c++) {
    let q = exp(logits[base + c] - m) / s;
    let g = (q - select(0.0, 1.0, c == label)) * p.scale;
    out[base + c] = select(g, bitcast<f32>(p.nanBits), bad);
  }
}

// Counts rows whose argmax (lowest index among ties) equals the label, per group. Workgroup t
// takes WG rows of one group: group t / chunks, rows (t % chunks) * WG + lid.
@compute @workgroup_size(WG)
fn correct(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let t = workgroup_index(wg);
  let chunks = (p.batch + WG - 1u) / WG;
  if (t >= p.rows / p.batch * chunks) {
    return;
  }
  if (lid == 0u) {
    atomicStore(&hits, 0u);
  }
  workgroupBarrier();
  let g = t / chunks;
  let b = (t % chunks) * WG + lid;
  if (b < p.batch) {
    let base = (g * p.batch + b) * p.classes;
    var best = logits[base];
    var arg = 0u;
    for (var c = 1u; c < p.classes; c++) {
      let v = logits[base + c];
      if (v > best) {
        best = v;
        arg = c;
      }
    }
    if (arg == labels[b]) {
      atomicAdd(&hits, 1u);
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let n = atomicLoad(&hits);
    if (n > 0u) {
      atomicAdd(&counts[g], n);
    }
  }
}
