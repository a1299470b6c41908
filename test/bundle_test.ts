import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundle } from "../src/bundle.ts";
import { normal, sum } from "../kernels.ts";
import { assertBitwiseEqual, gpuTest } from "./helpers.ts";

gpuTest("the esbuild bundle carries the shaders and computes what Deno computes", async (gpu) => {
  const text = await bundle(fileURLToPath(new URL("../kernels.ts", import.meta.url)));
  const file = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await Deno.writeTextFile(file, text);
    const lib = await import(`file://${file}`);
    const bundled = await lib.Gpu.create();
    const a = await lib.sum(lib.normal(bundled, [5000], { seed: 3 })).read();
    const b = await sum(normal(gpu, [5000], { seed: 3 })).read();
    assertBitwiseEqual(a, b, "sum of normals, bundle vs source");
    bundled.destroy();
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("mod.ts and ./formats reach no Deno or Node API (file helpers live in src/files.ts)", async () => {
  for (const entry of ["../mod.ts", "../src/formats.ts"]) {
    const text = await bundle(fileURLToPath(new URL(entry, import.meta.url)));
    const lines = text.split("\n");
    const offending = lines.filter((l) => /\bDeno\.|from "node:|require\(/.test(l));
    assert.deepEqual(offending, [], `Deno-only or Node-only code in the bundle of ${entry}`);
  }
});
