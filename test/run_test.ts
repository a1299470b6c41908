import assert from "node:assert/strict";
import type { Gpu } from "../src/gpu/gpu.ts";
import { PRESETS } from "../src/experiments/presets.ts";
import { Run } from "../src/experiments/run.ts";

const files = (dir: string): string[] =>
  [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory ? files(`${dir}/${e.name}`).map((f) => `${e.name}/${f}`) : [e.name]
  ).sort();

Deno.test("a run's description (run.json) is written with its first step record, never alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Steps do not touch the device here.
    const run = new Run(dir, {} as Gpu, PRESETS.tiny, () => {});
    run.describe("run.json", "{}\n");
    await assert.rejects(() => run.step("a", {}, () => Promise.reject(new Error("boom"))), /boom/);
    assert.deepEqual(files(dir), [], "a failed first step leaves no run.json");
    assert.equal(await run.step("b", {}, () => Promise.resolve(1)), 1);
    assert.deepEqual(files(dir), ["run.json", "steps/b.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
