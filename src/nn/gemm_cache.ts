/**
 * The measured GEMM core per adapter, cached in a JSON file so that `--kernels tune` measures
 * once per machine: `$LANDSCAPE_CACHE_DIR`, else `$XDG_CACHE_HOME/landscape`, else
 * `~/.cache/landscape`, file `kernels.json`, keyed by the adapter's description.
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import { type GemmVariant, setGemmVariant } from "./gemm.ts";
import { type GemmTuning, tuneGemm } from "./gemm_tune.ts";
import { writeAtomic } from "../report/atomic.ts";

/** The file the choices are cached in. */
export function kernelCachePath(): string {
  const env = (name: string) => Deno.env.get(name) || undefined;
  const dir = env("LANDSCAPE_CACHE_DIR") ??
    (env("XDG_CACHE_HOME") ? `${env("XDG_CACHE_HOME")}/landscape` : undefined) ??
    `${env("HOME") ?? "."}/.cache/landscape`;
  return `${dir}/kernels.json`;
}

type Cache = Record<string, GemmTuning>;

async function readCache(path: string): Promise<Cache> {
  try {
    const value = JSON.parse(await Deno.readTextFile(path));
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {}; // missing or unreadable: measure again and rewrite it
  }
}

function isVariant(v: unknown): v is GemmVariant {
  return v === "tiled" || v === "register";
}

/**
 * Applies the cached core for `gpu`'s adapter, or measures it (`tuneGemm`) and caches it.
 * Returns the choice and where it came from.
 */
export async function tunedGemm(
  gpu: Gpu,
): Promise<{ variant: GemmVariant; source: string }> {
  const path = kernelCachePath();
  const cache = await readCache(path);
  const hit = cache[gpu.adapter];
  if (hit && isVariant(hit.variant)) {
    setGemmVariant(gpu, hit.variant);
    return { variant: hit.variant, source: `cached in ${path}` };
  }
  const tuning = await tuneGemm(gpu);
  cache[gpu.adapter] = tuning;
  const ms = `tiled ${tuning.milliseconds.tiled.toFixed(1)} ms, register ${
    tuning.milliseconds.register.toFixed(1)
  } ms`;
  try {
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await writeAtomic(path, JSON.stringify(cache, null, 2) + "\n");
    return { variant: tuning.variant, source: `measured: ${ms}; cached in ${path}` };
  } catch (e) {
    return { variant: tuning.variant, source: `measured: ${ms}; not cached (${e})` };
  }
}
