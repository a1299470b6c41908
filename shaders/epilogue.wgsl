// The evaluation-mode layers that follow a forward product, applied as it stores each value
// instead of as passes of their own: ReLU, batch norm with running statistics, ReLU (each
// optional; EPILOGUE_* constants are prepended by src/nn/epilogue.ts). The batch norm reads
// the coefficients batchnorm.wgsl's evalCoefficients writes, [points, 4, C]: mean, 1/std,
// gamma/std, beta of every point, and computes what its normalize kernel does, so a fused
// value equals the unfused one.

@group(0) @binding(5) var<storage, read> epilogueCoefficients: array<f32>;

// v of output channel `channel` (of `channels`) at parameter point `point`.
fn epilogue(point: u32, channel: u32, channels: u32, v: f32) -> f32 {
  var y = v;
  if (EPILOGUE_RELU_FIRST) {
    y = select(y, 0.0, y <= 0.0);
  }
  if (EPILOGUE_NORM) {
    let at = point * 4u * channels + channel;
    y = (y - epilogueCoefficients[at]) * epilogueCoefficients[at + 2u * channels] +
      epilogueCoefficients[at + 3u * channels];
  }
  if (EPILOGUE_RELU_LAST) {
    y = select(y, 0.0, y <= 0.0);
  }
  return y;
}

// Four values of one channel at once.
fn epilogue4(point: u32, channel: u32, channels: u32, v: vec4<f32>) -> vec4<f32> {
  var y = v;
  if (EPILOGUE_RELU_FIRST) {
    y = select(y, vec4<f32>(0.0), y <= vec4<f32>(0.0));
  }
  if (EPILOGUE_NORM) {
    let at = point * 4u * channels + channel;
    y = (y - epilogueCoefficients[at]) * epilogueCoefficients[at + 2u * channels] +
      epilogueCoefficients[at + 3u * channels];
  }
  if (EPILOGUE_RELU_LAST) {
    y = select(y, vec4<f32>(0.0), y <= vec4<f32>(0.0));
  }
  return y;
}
