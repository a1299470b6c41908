/**
 * Host side of the tiled matrix multiply (`shaders/gemm.wgsl`): picks the split of K, records
 * the dispatches and the split sum. Layers supply the shader that defines the operands.
 * @module
 */
import type { Gpu, GpuBufferView } from "../gpu/gpu.ts";
import { type Params, params } from "../gpu/params.ts";
import { type ShaderSource, wgsl } from "../gpu/shader.ts";
import { ceilDiv, foldWorkgroups } from "../gpu/workgroups.ts";
import { Tensor } from "../tensor.ts";
import source from "../../shaders/gemm.wgsl" with { type: "text" };

/** The GEMM core; layer shaders list it as a dependency. */
export const gemmShader: ShaderSource = wgsl("shaders/gemm.wgsl", source);

/** Tile of C per workgroup and depth of a staged slice (the constants of gemm.wgsl). */
export const GEMM_TILE = { rows: 64, cols: 64, depth: 16 } as const;

/** Most of K one invocation covers; longer K is split and the partial tiles summed. */
export const K_CHUNK = 8192;

/** One matrix product of a layer. */
export interface GemmCall {
  /** The layer's shader (with gemmShader among its dependencies) and its constants. */
  shader: ShaderSource;
  constants?: Record<string, number>;
  m: number;
  n: number;
  k: number;
  /** Independent products (dispatch z), e.g. parameter points. */
  slices: number;
  /**
   * Appends the layer's own fields to its parameter struct, which begins with
   * m, n, k, splits, kChunk (u32 each) as gemm_shape() reads them.
   */
  fields: (p: Params) => Params;
  /**
   * What gemm_a and gemm_b read, from @binding(1) (null for numbers they do not use; index 10,
   * binding 11, is the core's). A pipeline binds exactly what its entry point uses, and the
   * split kernels use only the loads or only the store.
   */
  loadBindings: readonly (GpuBufferView | Params | null)[];
  /** What gemm_store uses, likewise. */
  storeBindings: readonly (GpuBufferView | Params | null)[];
}

type Bindings = readonly (GpuBufferView | Params | null)[];

function merge(a: Bindings, b: Bindings): (GpuBufferView | Params | null)[] {
  return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => a[i] ?? b[i] ?? null);
}

/** Records C = A * B for every slice, splitting K when it is longer than K_CHUNK. */
export function recordGemm(gpu: Gpu, call: GemmCall): void {
  const { m, n, k, slices } = call;
  if (m === 0 || n === 0 || slices === 0) return;
  const splits = Math.max(1, ceilDiv(k, K_CHUNK));
  const kChunk = ceilDiv(ceilDiv(k, splits), GEMM_TILE.depth) * GEMM_TILE.depth;
  const p = call.fields(params().u32(m).u32(n).u32(k).u32(splits).u32(kChunk));
  const [x, y] = foldWorkgroups(
    ceilDiv(n, GEMM_TILE.cols) * ceilDiv(m, GEMM_TILE.rows),
    gpu.limits.maxComputeWorkgroupsPerDimension,
  );
  const tiles: [number, number] = [x, y];
  const kernel = (entryPoint: string) => ({
    shader: call.shader,
    entryPoint,
    constants: call.constants,
  });
  if (splits === 1) {
    gpu.dispatch({
      kernel: kernel("gemm"),
      bindings: merge(call.loadBindings, call.storeBindings),
      params: p,
      workgroups: [...tiles, slices],
    });
    return;
  }
  const partials = Tensor.empty(gpu, [slices * splits, m, n]);
  const withPartials = (b: Bindings) => {
    const out = [...b];
    while (out.length < 11) out.push(null);
    out[10] = partials;
    return out;
  };
  gpu.dispatch({
    kernel: kernel("gemmPartial"),
    bindings: withPartials(call.loadBindings),
    params: p,
    workgroups: [...tiles, slices * splits],
  });
  gpu.dispatch({
    kernel: kernel("gemmSum"),
    bindings: withPartials(call.storeBindings),
    params: p,
    workgroups: ceilDiv(slices * m * n, 256),
  });
  partials.dispose();
}
