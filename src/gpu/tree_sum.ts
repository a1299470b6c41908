/**
 * The workgroup tree reduction shared by the reduction kernels (`shaders/tree_sum.wgsl`); a
 * shader that includes it declares `override WG` and `fn tree_combine`.
 * @module
 */
import { type ShaderSource, wgsl } from "./shader.ts";
import source from "../../shaders/tree_sum.wgsl" with { type: "text" };

/** `treeA`, `treeB` and `tree_reduce(lid, both)`. */
export const treeSumShader: ShaderSource = wgsl("shaders/tree_sum.wgsl", source);
