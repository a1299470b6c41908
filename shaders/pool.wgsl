// 2-D pooling over NCHW planes, padding 0 (PyTorch floor semantics for the output size):
// input [planes, h, w] -> output [planes, oh, ow], oh = (h - k) / s + 1, planes = G * B * C.
// Forward kernels run one invocation per output and loop over its k x k window; backward
// kernels run one invocation per input and gather from the at most ceil(k / s)^2 windows that
// contain it, in ascending output order (PyTorch's CPU order of accumulation). Global average
// pooling runs one invocation per plane over its h * w values (the host keeps h * w small
// enough for lavapipe's 65,535-iteration cap and uses the row reduction otherwise).

override WG: u32 = 256;

struct Params {
  n: u32, // invocations that do work: outputs (forward), inputs (backward), planes (global)
  h: u32,
  w: u32,
  oh: u32,
  ow: u32,
  k: u32,
  s: u32,
  scale: f32, // 1 / (k * k) for average pooling, 1 / (h * w) for global average pooling
}

@group(0) @binding(0) var<uniform> p: Params;

// Forward: x -> y, and for max pooling in training the argmax of each window (its offset
// within the plane).
@group(0) @binding(1) var<storage, read> fx: array<f32>;
@group(0) @binding(2) var<storage, read_write> fy: array<f32>;
@group(0) @binding(3) var<storage, read_write> fidx: array<u32>;

// Max backward: dy, argmax -> dx.
@group(0) @binding(1) var<storage, read> mdy: array<f32>;
@group(0) @binding(2) var<storage, read> midx: array<u32>;
@group(0) @binding(3) var<storage, read_write> mdx: array<f32>;

// Average backward: dy -> dx.
@group(0) @binding(1) var<storage, read> ady: array<f32>;
@group(0) @binding(2) var<storage, read_write> adx: array<f32>;

struct MaxAt {
  value: f32,
  index: u32, // row * w + column within the plane, as PyTorch returns indices
}

// Max of the window of output o. Scan order is row-major and a value replaces the running max
// only if it is greater or NaN, so ties keep the first max (PyTorch's CPU rule).
fn windowMax(o: u32) -> MaxAt {
  let per = p.oh * p.ow;
  let plane = o / per;
  let r = o % per;
  let h0 = (r / p.ow) * p.s;
  let w0 = (r % p.ow) * p.s;
  let base = plane * p.h * p.w;
  var arg = h0 * p.w + w0;
  var best = fx[base + arg];
  for (var a = 0u; a < p.k; a++) {
    for (var b = 0u; b < p.k; b++) {
      let idx = (h0 + a) * p.w + w0 + b;
      let v = fx[base + idx];
      if (v > best || v != v) {
        best = v;
        arg = idx;
      }
    }
  }
  return MaxAt(best, arg);
}

@compute @workgroup_size(WG)
fn maxForward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let o = invocation_index(wg, WG, lid);
  if (o < p.n) {
    fy[o] = windowMax(o).value;
  }
}

@compute @workgroup_size(WG)
fn maxForwardSave(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let o = invocation_index(wg, WG, lid);
  if (o < p.n) {
    let m = windowMax(o);
    fy[o] = m.value;
    fidx[o] = m.index;
  }
}

@compute @workgroup_size(WG)
fn avgForward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let o = invocation_index(wg, WG, lid);
  if (o >= p.n) {
    return;
  }
  let per = p.oh * p.ow;
  let plane = o / per;
  let r = o % per;
  let h0 = (r / p.ow) * p.s;
  let w0 = (r % p.ow) * p.s;
  let base = plane * p.h * p.w;
  var acc = 0.0;
  for (var a = 0u; a < p.k; a++) {
    for (var b = 0u; b < p.k; b++) {
      acc += fx[base + (h0 + a) * p.w + w0 + b];
    }
  }
  fy[o] = acc * p.scale;
}

// Range of output indices whose window [i * s, i * s + k) contains input coordinate c.
fn windows(c: u32, count: u32) -> vec2<u32> {
  var lo = 0u;
  if (c + 1u > p.k) {
    lo = (c + 1u - p.k + p.s - 1u) / p.s;
  }
  let hi = min(c / p.s + 1u, count); // exclusive
  return vec2<u32>(lo, hi);
}

@compute @workgroup_size(WG)
fn maxBackward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let e = invocation_index(wg, WG, lid);
  if (e >= p.n) {
    return;
  }
  let hw = p.h * p.w;
  let plane = e / hw;
  let pos = e % hw;
  let rows = windows(pos / p.w, p.oh);
  let cols = windows(pos % p.w, p.ow);
  let obase = plane * p.oh * p.ow;
  var acc = 0.0;
  for (var i = rows.x; i < rows.y; i++) {
    for (var j = cols.x; j < cols.y; j++) {
      let o = obase + i * p.ow + j;
      if (midx[o] == pos) {
        acc += mdy[o];
      }
    }
  }
  mdx[e] = acc;
}

@compute @workgroup_size(WG)
fn avgBackward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let e = invocation_index(wg, WG, lid);
  if (e >= p.n) {
    return;
  }
  let hw = p.h * p.w;
  let plane = e / hw;
  let pos = e % hw;
  let rows = windows(pos / p.w, p.oh);
  let cols = windows(pos % p.w, p.ow);
  let obase = plane * p.oh * p.ow;
  var acc = 0.0;
  for (var i = rows.x; i < rows.y; i++) {
    for (var j = cols.x; j < cols.y; j++) {
      acc = fma(ady[obase + i * p.ow + j], p.scale, acc);
    }
  }
  adx[e] = acc;
}

// Global average pooling: y[plane] = mean of its h * w values.
@compute @workgroup_size(WG)
fn globalForward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let plane = invocation_index(wg, WG, lid);
  if (plane >= p.n) {
    return;
  }
  let hw = p.h * p.w;
  let base = plane * hw;
  var acc = 0.0;
  for (var i = 0u; i < hw; i++) {
    acc += fx[base + i];
  }
  fy[plane] = acc * p.scale;
}

// Global average pooling backward: dx[plane, i] = dy[plane] / (h * w), one invocation per input.
@compute @workgroup_size(WG)
fn globalBackward(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let e = invocation_index(wg, WG, lid);
  if (e < p.n) {
    adx[e] = ady[e / (p.h * p.w)] * p.scale;
  }
}
