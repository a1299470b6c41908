// The evaluation-mode layers that follow a forward product, applied as it stores each value
// instead of as passes of their own: ReLU, batch norm with running statistics, ReLU (each
// optional; EPILOGUE_* constants are prepended by src/nn/epilogue.ts). The batch norm reads
// the coefficients batchnorm.wgsl's evalCoefficients writes, [points, 4, C]: mean, 1/std,
// gamma/std, beta of every point, and computes what its normalize kernel does, so a fused
// value equals the unfused one.

@group(0) @binding(5) var<storage, read> epilogueCoefficients: array<f32>;

// The batch norm's coefficients for four values, loaded once for every store that shares
// them: on lavapipe each storage load is a loop over the SIMD lanes, and a product's store
// phase would otherwise load them again for every value.
struct EpilogueAt {
  mean: vec4<f32>,
  scale: vec4<f32>, // gamma / std
  shift: vec4<f32>, // beta
}

// Channel `channel` (of `channels`) at parameter point `point`, for all four values.
fn epilogue_channel(point: u32, channel: u32, channels: u32) -> EpilogueAt {
  var e: EpilogueAt;
  if (EPILOGUE_NORM) {
    let at = point * 4u * channels + channel;
    e.mean = vec4<f32>(epilogueCoefficients[at]);
    e.scale = vec4<f32>(epilogueCoefficients[at + 2u * channels]);
    e.shift = vec4<f32>(epilogueCoefficients[at + 3u * channels]);
  }
  return e;
}

// Channels channel .. channel + 3 (all below `channels`), one per value.
fn epilogue_channels4(point: u32, channel: u32, channels: u32) -> EpilogueAt {
  var e: EpilogueAt;
  if (EPILOGUE_NORM) {
    let at = point * 4u * channels + channel;
    let c = channels;
    e.mean = vec4<f32>(epilogueCoefficients[at], epilogueCoefficients[at + 1u],
      epilogueCoefficients[at + 2u], epilogueCoefficients[at + 3u]);
    e.scale = vec4<f32>(epilogueCoefficients[at + 2u * c], epilogueCoefficients[at + 2u * c + 1u],
      epilogueCoefficients[at + 2u * c + 2u], epilogueCoefficients[at + 2u * c + 3u]);
    e.shift = vec4<f32>(epilogueCoefficients[at + 3u * c], epilogueCoefficients[at + 3u * c + 1u],
      epilogueCoefficients[at + 3u * c + 2u], epilogueCoefficients[at + 3u * c + 3u]);
  }
  return e;
}

// The epilogue of four values with coefficients e.
fn epilogue_apply(e: EpilogueAt, v: vec4<f32>) -> vec4<f32> {
  var y = v;
  if (EPILOGUE_RELU_FIRST) {
    y = select(y, vec4<f32>(0.0), y <= vec4<f32>(0.0));
  }
  if (EPILOGUE_NORM) {
    y = (y - e.mean) * e.scale + e.shift;
  }
  if (EPILOGUE_RELU_LAST) {
    y = select(y, vec4<f32>(0.0), y <= vec4<f32>(0.0));
  }
  return y;
}

// v of output channel `channel` (of `channels`) at parameter point `point`.
fn epilogue(point: u32, channel: u32, channels: u32, v: f32) -> f32 {
  return epilogue_apply(epilogue_channel(point, channel, channels), vec4<f32>(v)).x;
}
