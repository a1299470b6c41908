/**
 * Uniform and normal fills from the counter-based Philox generator (`shaders/random.wgsl`).
 * Element i of a fill is a function of (seed, stream, domain, offset + i) only.
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import { uniformStruct } from "../gpu/uniforms.ts";
import { type ShaderSource, wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { RNG_DOMAIN, seedKey } from "../rng/philox.ts";
import { Tensor } from "../tensor.ts";
import { invocationShader } from "../gpu/invocation.ts";
import philoxSource from "../../shaders/philox.wgsl" with { type: "text" };
import source from "../../shaders/random.wgsl" with { type: "text" };

/** The Philox4x32-10 functions, for shaders that draw random numbers. */
export const philoxShader: ShaderSource = wgsl("shaders/philox.wgsl", philoxSource);
const shader = wgsl("shaders/random.wgsl", source, invocationShader, philoxShader);
const UNIFORMS = uniformStruct("Params", {
  n: "u32",
  offset: "u32",
  seedLo: "u32",
  seedHi: "u32",
  stream: "u32",
  domain: "u32",
  a: "f32",
  b: "f32",
});

/** Which numbers a fill draws. */
export interface RandomKey {
  /** Seed, a non-negative integer below 2^53. */
  seed: number;
  /** Independent sequence under one seed (default 0). */
  stream?: number;
  /** Use of the numbers, see RNG_DOMAIN (default `fill`). */
  domain?: number;
  /** Index of the first element within the stream (default 0). */
  offset?: number;
  /** Workgroup size; results do not depend on it (default 256). */
  workgroupSize?: number;
}

function launch(t: Tensor, entryPoint: string, key: RandomKey, a: number, b: number): void {
  const offset = key.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset + t.size > 2 ** 32) {
    throw new RangeError(`random fill offset ${offset} + ${t.size} elements exceeds 2^32`);
  }
  if (t.size === 0) return;
  const [seedLo, seedHi] = seedKey(key.seed);
  const WG = key.workgroupSize ?? 256;
  const blocks = Math.floor((offset + t.size - 1) / 4) - Math.floor(offset / 4) + 1;
  t.gpu.dispatch({
    kernel: { shader, entryPoint, constants: { WG } },
    bindings: [t],
    params: UNIFORMS.write({
      n: t.size,
      offset,
      seedLo,
      seedHi,
      stream: key.stream ?? 0,
      domain: key.domain ?? RNG_DOMAIN.fill,
      a,
      b,
    }),
    workgroups: ceilDiv(blocks, WG),
  });
}

/** Fills `t` with uniform values in (low, high]. */
export function fillUniform(t: Tensor, key: RandomKey, low = 0, high = 1): void {
  launch(t, "fillUniform", key, low, high);
}

/** Fills `t` with normal values (Box-Muller), mean `mean`, standard deviation `std`. */
export function fillNormal(t: Tensor, key: RandomKey, mean = 0, std = 1): void {
  launch(t, "fillNormal", key, mean, std);
}

/** A new tensor of uniform values in (low, high]. */
export function uniform(
  gpu: Gpu,
  shape: readonly number[],
  key: RandomKey,
  low = 0,
  high = 1,
): Tensor {
  const t = Tensor.empty(gpu, shape);
  fillUniform(t, key, low, high);
  return t;
}

/** A new tensor of normal values. */
export function normal(
  gpu: Gpu,
  shape: readonly number[],
  key: RandomKey,
  mean = 0,
  std = 1,
): Tensor {
  const t = Tensor.empty(gpu, shape);
  fillNormal(t, key, mean, std);
  return t;
}
