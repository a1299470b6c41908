// Element-wise maps over flat f32 arrays. OP picks the operation when the pipeline is built,
// so each (entry point, OP) pair compiles to straight-line code.

override WG: u32 = 256;
override OP: u32 = 0;

struct Params {
  n: u32,
  a: f32, // scalar operands: affine y = a * x + b, fill value a
  b: f32,
}

@group(0) @binding(0) var<uniform> p: Params;

// map1: y = f(x)
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read_write> y1: array<f32>;

// map2: z = f(x, y)
@group(0) @binding(1) var<storage, read> x2: array<f32>;
@group(0) @binding(2) var<storage, read> y2: array<f32>;
@group(0) @binding(3) var<storage, read_write> z2: array<f32>;

// fill: y = a
@group(0) @binding(1) var<storage, read_write> y0: array<f32>;

fn unary(v: f32) -> f32 {
  switch OP {
    case 1u: { return abs(v); }
    case 2u: { return exp(v); }
    case 3u: { return log(v); }
    case 4u: { return sqrt(v); }
    case 5u: { return max(v, 0.0); }
    case 6u: { return v * v; }
    default: { return p.a * v + p.b; }
  }
}

fn binary(u: f32, v: f32) -> f32 {
  switch OP {
    case 1u: { return u - v; }
    case 2u: { return u * v; }
    case 3u: { return u / v; }
    case 4u: { return max(u, v); }
    case 5u: { return min(u, v); }
    default: { return u + v; }
  }
}

@compute @workgroup_size(WG)
fn map1(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, WG, lid);
  if (i < p.n) {
    y1[i] = unary(x1[i]);
  }
}

@compute @workgroup_size(WG)
fn map2(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, WG, lid);
  if (i < p.n) {
    z2[i] = binary(x2[i], y2[i]);
  }
}

@compute @workgroup_size(WG)
fn fill(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let i = invocation_index(wg, WG, lid);
  if (i < p.n) {
    y0[i] = p.a;
  }
}
