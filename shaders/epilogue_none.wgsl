// No epilogue: the variant products are assembled with in training, in backward passes and
// where no ReLU or batch norm follows. Same signature as epilogue.wgsl.

fn epilogue(point: u32, channel: u32, channels: u32, v: f32) -> f32 {
  return v;
}

struct EpilogueAt {
  mean: vec4<f32>,
  scale: vec4<f32>,
  shift: vec4<f32>,
}

fn epilogue_channel(point: u32, channel: u32, channels: u32) -> EpilogueAt {
  return EpilogueAt();
}

fn epilogue_channels4(point: u32, channel: u32, channels: u32) -> EpilogueAt {
  return EpilogueAt();
}

fn epilogue_apply(e: EpilogueAt, v: vec4<f32>) -> vec4<f32> {
  return v;
}
