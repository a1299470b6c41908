// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011):
// a counter-based generator, so every value is a pure function of (key, counter) and the
// same seed gives the same numbers in any dispatch order on any adapter.
// Engine convention: key = 64-bit seed, counter = (block, substream, stream, domain); element i
// of a stream uses word i % 4 of block i / 4. Domains keep different uses of one seed apart;
// substreams tell apart users of one stream (e.g. the dropout layers of a model at one step).

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// (high, low) words of the 64-bit product a * b, from 16-bit halves (WGSL has no u64). With
// a = a1 2^16 + a0 and b likewise, t = a1 b0 + (a0 b0 >> 16) and (t & 0xffff) + a0 b1 stay
// below 2^32, and their high halves carry the cross terms into a1 b1.
fn philox_mulhilo(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let t = a1 * b0 + ((a0 * b0) >> 16u);
  let hi = a1 * b1 + (t >> 16u) + (((t & 0xffffu) + a0 * b1) >> 16u);
  return vec2<u32>(hi, a * b);
}

fn philox_round(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
  let r0 = philox_mulhilo(PHILOX_M0, c.x);
  let r1 = philox_mulhilo(PHILOX_M1, c.z);
  return vec4<u32>(r1.x ^ c.y ^ k.x, r1.y, r0.x ^ c.w ^ k.y, r0.y);
}

// Ten rounds, unrolled by hand: a loop would count against lavapipe's per-invocation cap.
fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  let w = vec2<u32>(PHILOX_W0, PHILOX_W1);
  var c = philox_round(counter, key);
  var k = key + w;
  c = philox_round(c, k);
  k += w;
  c = philox_round(c, k);
  k += w;
  c = philox_round(c, k);
  k += w;
  c = philox_round(c, k);
  k += w;
  c = philox_round(c, k);
  k += w;
  c = philox_round(c, k);
  k += w;
  c = philox_round(c, k);
  k += w;
  c = philox_round(c, k);
  k += w;
  return philox_round(c, k);
}

fn philox_block(seed: vec2<u32>, stream: u32, domain: u32, block: u32) -> vec4<u32> {
  return philox4x32_10(vec4<u32>(block, 0u, stream, domain), seed);
}

fn philox_block_sub(seed: vec2<u32>, stream: u32, substream: u32, domain: u32, block: u32) -> vec4<u32> {
  return philox4x32_10(vec4<u32>(block, substream, stream, domain), seed);
}

// Uniform in (0, 1]: the top 24 bits, so every value is exact in f32.
fn philox_unit(bits: u32) -> f32 {
  return (f32(bits >> 8u) + 1.0) * 5.9604644775390625e-8;
}

// Box-Muller on word pairs (0, 1) and (2, 3): four standard normal values. The angle lies in
// (-pi, pi], where WGSL bounds the error of sin and cos.
fn philox_gaussian4(bits: vec4<u32>) -> vec4<f32> {
  let pi = 3.14159265358979;
  let r0 = sqrt(-2.0 * log(philox_unit(bits.x)));
  let t0 = pi * (2.0 * philox_unit(bits.y) - 1.0);
  let r1 = sqrt(-2.0 * log(philox_unit(bits.z)));
  let t1 = pi * (2.0 * philox_unit(bits.w) - 1.0);
  return vec4<f32>(r0 * cos(t0), r0 * sin(t0), r1 * cos(t1), r1 * sin(t1));
}

// Lane `lane` of philox_gaussian4(bits) with the same arithmetic, for callers that use one
// value of a block: one logarithm and square root instead of two.
fn philox_gaussian(bits: vec4<u32>, lane: u32) -> f32 {
  let pi = 3.14159265358979;
  let high = lane >= 2u;
  let r = sqrt(-2.0 * log(philox_unit(select(bits.x, bits.z, high))));
  let t = pi * (2.0 * philox_unit(select(bits.y, bits.w, high)) - 1.0);
  if ((lane & 1u) == 0u) {
    return r * cos(t);
  }
  return r * sin(t);
}
