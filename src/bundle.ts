/**
 * Bundles the engine (mod.ts and its WGSL shaders) into one ES module for browsers and other
 * runtimes, with esbuild. Shaders are imported as text (`with { type: "text" }`), which Deno
 * and esbuild both understand, so the bundle carries exactly the sources Deno runs.
 *
 * Usage: `deno task bundle [out.js]` (default `dist/landscape.js`).
 * @module
 */
import * as esbuild from "esbuild";

/** Bundles `entry` into a single minified-off ES module; returns its text. */
export async function bundle(
  entry = new URL("../mod.ts", import.meta.url).pathname,
): Promise<string> {
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      loader: { ".wgsl": "text" },
      logLevel: "silent",
    });
    return result.outputFiles[0].text;
  } finally {
    await esbuild.stop();
  }
}

if (import.meta.main) {
  const out = Deno.args[0] ?? "dist/landscape.js";
  const text = await bundle();
  const dir = out.includes("/") ? out.slice(0, out.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${out}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, out);
  console.error(`bundle: wrote ${out} (${(text.length / 1024).toFixed(0)} KiB)`);
}
