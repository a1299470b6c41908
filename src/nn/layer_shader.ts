/**
 * The one way a layer with a matrix product assembles its shader: its own file after any files
 * of its own, a GEMM core, a perturbation variant and an epilogue.
 * @module
 */
import { type ShaderSource, wgsl } from "../gpu/shader.ts";
import { type Epilogue, epilogueShader } from "./epilogue.ts";
import { type Perturbation, perturbationShader } from "./perturbation.ts";

/** A layer shader's variants: for a perturbation and an epilogue, the shader of a GEMM core. */
export type LayerShader = (
  p: Perturbation | undefined,
  e?: Epilogue,
) => (core: ShaderSource) => ShaderSource;

/** The variants of the layer shader `file` (text `code`), placed after `deps`. */
export function layerShader(file: string, code: string, ...deps: ShaderSource[]): LayerShader {
  return (p, e) => (core) =>
    wgsl(file, code, ...deps, core, perturbationShader(p), epilogueShader(e));
}
