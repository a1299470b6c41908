/**
 * The WGSL every kernel shares for its position in a dispatch (`shaders/invocation.wgsl`): the
 * `Workgroup` builtins and the linear ids of folded dispatches (see workgroups.ts).
 * @module
 */
import { type ShaderSource, wgsl } from "./shader.ts";
import source from "../../shaders/invocation.wgsl" with { type: "text" };

/** `Workgroup`, `folded_id`, `workgroup_index` and `invocation_index`. */
export const invocationShader: ShaderSource = wgsl("shaders/invocation.wgsl", source);
