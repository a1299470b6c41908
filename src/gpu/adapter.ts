/**
 * Finding a WebGPU adapter, and explaining in one line what to do when there is none.
 * @module
 */

/** The one-line fix printed when no WebGPU adapter exists. */
export const NO_ADAPTER_MESSAGE =
  "No WebGPU adapter found: install your GPU's Vulkan driver, or on a machine without a GPU " +
  "install Mesa's software driver (Debian/Ubuntu: sudo apt-get install mesa-vulkan-drivers).";

/**
 * Deno's Vulkan backend prints "XDG_RUNTIME_DIR is invalid" unless the variable names a
 * 0700 directory; point it at a private temporary one when it is unset or unusable.
 */
export function ensureRuntimeDir(): void {
  // Through globalThis, so that bundles for browsers hold no reference to Deno.
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (!deno) return;
  const current = deno.env.get("XDG_RUNTIME_DIR");
  if (current) {
    try {
      const info = deno.statSync(current);
      if (info.isDirectory && ((info.mode ?? 0o700) & 0o777) === 0o700) return;
    } catch {
      // fall through: make a fresh one
    }
  }
  const dir = deno.makeTempDirSync({ prefix: "landscape-xdg-" });
  deno.chmodSync(dir, 0o700);
  deno.env.set("XDG_RUNTIME_DIR", dir);
}

/** Returns an adapter, or null when the system has none. */
export async function findAdapter(
  powerPreference: GPUPowerPreference = "high-performance",
): Promise<GPUAdapter | null> {
  ensureRuntimeDir();
  if (typeof navigator === "undefined" || !("gpu" in navigator)) return null;
  return await navigator.gpu.requestAdapter({ powerPreference });
}

/** A short human description of an adapter, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const name = info.description ||
    [info.vendor, info.architecture, info.device].filter(Boolean).join(" ") ||
    "unknown adapter";
  return info.isFallbackAdapter ? `${name} [software]` : name;
}
