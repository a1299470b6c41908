/**
 * Values per invocation as a shader dependency (`shaders/lanes1.wgsl`, `shaders/lanes4.wgsl`):
 * a kernel written over `alias Value` and `const LANES` is assembled after one of them, so one
 * WGSL text serves both the scalar and the vec4 instance of a pass.
 * @module
 */
import { type ShaderSource, wgsl } from "./shader.ts";
import one from "../../shaders/lanes1.wgsl" with { type: "text" };
import four from "../../shaders/lanes4.wgsl" with { type: "text" };

/** Values per invocation: 1 (f32) or 4 (vec4<f32>). */
export type Lanes = 1 | 4;

const shaders: Record<Lanes, ShaderSource> = {
  1: wgsl("shaders/lanes1.wgsl", one),
  4: wgsl("shaders/lanes4.wgsl", four),
};

/** `Value`, `LANES`, `lane_sum` and `lane_broadcast` for `lanes` values per invocation. */
export function lanesShader(lanes: Lanes): ShaderSource {
  return shaders[lanes];
}
