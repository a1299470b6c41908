/**
 * Bundles the engine (mod.ts and its WGSL shaders) into one ES module for browsers and other
 * runtimes, with esbuild. Shaders are imported as text (`with { type: "text" }`), which Deno
 * and esbuild both understand, so the bundle carries exactly the sources Deno runs.
 *
 * Usage: `deno task bundle [out.js]` (default `dist/landscape.js`, with `out.js.map`).
 * @module
 */
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { writeAtomic } from "./report/atomic.ts";

/**
 * Vega and Vega-Lite enter a browser bundle as their own prebuilt, minified browser builds
 * (self-contained UMD files beside the package's entry), not as their hundred npm modules.
 */
const BROWSER_BUILDS: Record<string, string> = {
  "vega": "vega.min.js",
  "vega-lite": "vega-lite.min.js",
};

const browserBuilds: esbuild.Plugin = {
  name: "browser-builds",
  setup(build) {
    build.onResolve({ filter: /^vega(-lite)?$/ }, ({ path }) => ({
      path: fileURLToPath(new URL(BROWSER_BUILDS[path], import.meta.resolve(path))),
    }));
  },
};

/** A bundle's code and its source map. */
export interface Bundle {
  code: string;
  map: string;
}

/**
 * Bundles `entry` (default mod.ts) into a single ES module with a source map (linked as
 * `mapName`); `minify` shrinks it (the page's script, which carries Vega: 1.5 MiB as printed,
 * under 1 MiB minified).
 */
export async function bundleWithMap(
  entry = fileURLToPath(new URL("../mod.ts", import.meta.url)),
  mapName = "landscape.js.map",
  { minify = false }: { minify?: boolean } = {},
): Promise<Bundle> {
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      outfile: `out/${mapName.replace(/\.map$/, "")}`,
      sourcemap: "linked",
      format: "esm",
      platform: "neutral",
      target: "es2022",
      loader: { ".wgsl": "text" },
      plugins: [browserBuilds],
      logLevel: "silent",
      minify,
    });
    const code = result.outputFiles.find((f) => f.path.endsWith(".js"))!.text;
    const map = result.outputFiles.find((f) => f.path.endsWith(".map"))!.text;
    return { code, map };
  } finally {
    await esbuild.stop();
  }
}

/** Bundles `entry` into a single ES module; returns its text (no source map). */
export async function bundle(
  entry = fileURLToPath(new URL("../mod.ts", import.meta.url)),
): Promise<string> {
  const { code } = await bundleWithMap(entry);
  return code.replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n");
}

if (import.meta.main) {
  const out = Deno.args[0] ?? "dist/landscape.js";
  const name = out.slice(out.lastIndexOf("/") + 1);
  const { code, map } = await bundleWithMap(undefined, `${name}.map`);
  const dir = out.includes("/") ? out.slice(0, out.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  await writeAtomic(`${out}.map`, map);
  await writeAtomic(out, code);
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  console.error(
    `bundle: wrote ${out} (${kib(code.length)}) and ${out}.map (${kib(map.length)})`,
  );
}
