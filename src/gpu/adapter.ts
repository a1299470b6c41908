/**
 * Finding a WebGPU adapter, and explaining in one line what to do when there is none.
 * @module
 */

/** The one-line fix printed when no WebGPU adapter exists. */
export const NO_ADAPTER_MESSAGE =
  "No WebGPU adapter found: install your GPU's Vulkan driver, or on a machine without a GPU " +
  "install Mesa's software driver (Debian/Ubuntu: sudo apt-get install mesa-vulkan-drivers).";

/** Whether `dir` is a real (not linked) folder of this user's with mode 0700. */
function privateFolder(deno: typeof Deno, dir: string, follow: boolean): boolean {
  try {
    const info = follow ? deno.statSync(dir) : deno.lstatSync(dir);
    const mine = deno.uid() === null || info.uid === null || info.uid === deno.uid();
    return info.isDirectory && mine && ((info.mode ?? 0o700) & 0o777) === 0o700;
  } catch {
    return false;
  }
}

/**
 * Deno's Vulkan backend prints "XDG_RUNTIME_DIR is invalid" unless the variable names a
 * 0700 directory; when it is unset or unusable, point it at one folder per user in the
 * temporary directory, reused by every process (a fresh one per process would pile up). Only if
 * that name is taken by something else is a fresh folder made, and removed at exit.
 */
export function ensureRuntimeDir(): void {
  // Through globalThis, so that bundles for browsers hold no reference to Deno.
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (!deno) return;
  const current = deno.env.get("XDG_RUNTIME_DIR");
  if (current && privateFolder(deno, current, true)) return;
  const shared = `${deno.env.get("TMPDIR") || "/tmp"}/landscape-xdg-${deno.uid() ?? "user"}`;
  try {
    deno.mkdirSync(shared, { mode: 0o700 });
  } catch {
    // it exists already (checked below), or the temporary directory is not writable
  }
  if (privateFolder(deno, shared, false)) {
    deno.env.set("XDG_RUNTIME_DIR", shared);
    return;
  }
  try {
    const dir = deno.makeTempDirSync({ prefix: "landscape-xdg-" });
    deno.chmodSync(dir, 0o700);
    deno.env.set("XDG_RUNTIME_DIR", dir);
    globalThis.addEventListener("unload", () => deno.removeSync(dir, { recursive: true }));
  } catch {
    // no writable temporary directory: Deno only prints its warning
  }
}

/** Returns an adapter, or null when the system has none. */
export async function findAdapter(
  powerPreference: GPUPowerPreference = "high-performance",
): Promise<GPUAdapter | null> {
  ensureRuntimeDir();
  if (typeof navigator === "undefined" || !("gpu" in navigator)) return null;
  return await navigator.gpu.requestAdapter({ powerPreference });
}

/**
 * Whether an adapter description (see {@link describeAdapter}) names a driver that runs shaders
 * on the CPU (lavapipe/llvmpipe, SwiftShader, softpipe, or any fallback adapter).
 */
export function isSoftwareAdapter(description: string): boolean {
  return /\[software\]|llvmpipe|lavapipe|swiftshader|softpipe/i.test(description);
}

/** A short human description of an adapter, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const name = info.description ||
    [info.vendor, info.architecture, info.device].filter(Boolean).join(" ") ||
    "unknown adapter";
  return info.isFallbackAdapter ? `${name} [software]` : name;
}
