import assert from "node:assert/strict";
import { kernelCachePath, tunedGemm } from "../src/nn/gemm_cache.ts";
import { gemmVariant, setGemmVariant } from "../src/nn/gemm.ts";
import { tuneGemm } from "../src/nn/gemm_tune.ts";
import { gpuTest } from "./helpers.ts";

gpuTest("tuning times both GEMM cores and applies the faster one", async (gpu) => {
  try {
    const t = await tuneGemm(gpu, { reps: 1, size: 64 });
    assert.equal(t.adapter, gpu.adapter);
    for (const v of ["tiled", "register"] as const) {
      assert.ok(t.milliseconds[v] > 0 && Number.isFinite(t.milliseconds[v]), `${v} timed`);
    }
    const faster = t.milliseconds.register < t.milliseconds.tiled ? "register" : "tiled";
    assert.equal(t.variant, faster);
    assert.equal(gemmVariant(gpu), faster);
  } finally {
    setGemmVariant(gpu, undefined);
  }
});

gpuTest(
  "the tuned core is cached per adapter and a damaged cache is measured again",
  async (gpu) => {
    const dir = await Deno.makeTempDir();
    const saved = Deno.env.get("LANDSCAPE_CACHE_DIR");
    Deno.env.set("LANDSCAPE_CACHE_DIR", dir);
    try {
      const path = kernelCachePath();
      assert.equal(path, `${dir}/kernels.json`);
      const first = await tunedGemm(gpu);
      assert.match(first.source, /^measured: tiled .* ms, register .* ms; cached in /);
      const cached = JSON.parse(await Deno.readTextFile(path));
      assert.equal(cached[gpu.adapter].variant, first.variant);

      // A choice in the file is used as is, without measuring.
      const other = first.variant === "tiled" ? "register" : "tiled";
      cached[gpu.adapter].variant = other;
      await Deno.writeTextFile(path, JSON.stringify(cached));
      const second = await tunedGemm(gpu);
      assert.deepEqual(second, { variant: other, source: `cached in ${path}` });
      assert.equal(gemmVariant(gpu), other);

      await Deno.writeTextFile(path, "{ not json");
      const third = await tunedGemm(gpu);
      assert.match(third.source, /^measured: /);
      assert.ok(JSON.parse(await Deno.readTextFile(path))[gpu.adapter]);
    } finally {
      if (saved === undefined) Deno.env.delete("LANDSCAPE_CACHE_DIR");
      else Deno.env.set("LANDSCAPE_CACHE_DIR", saved);
      setGemmVariant(gpu, undefined);
      await Deno.remove(dir, { recursive: true });
    }
  },
);
