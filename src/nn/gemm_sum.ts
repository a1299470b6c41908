/**
 * The WGSL both GEMM cores share (`shaders/gemm_sum.wgsl`): the product's shape struct and the
 * kernel that adds the partial products of a split K.
 * @module
 */
import { type ShaderSource, wgsl } from "../gpu/shader.ts";
import { invocationShader } from "../gpu/invocation.ts";
import source from "../../shaders/gemm_sum.wgsl" with { type: "text" };

/** The shape struct and split-K sum of both cores. */
export const gemmSumShader: ShaderSource = wgsl("shaders/gemm_sum.wgsl", source, invocationShader);
