import assert from "node:assert/strict";
import { benchScript } from "./cli_run.ts";

Deno.test("bench/compare.ts names a bad --torch-device in one line, exit 1, before any work", async () => {
  const { code, stderr } = await benchScript("compare.ts", "--torch-device", "gpu");
  assert.equal(code, 1, stderr);
  assert.match(stderr, /--torch-device must be one of cpu, cuda, auto, got "gpu"/);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
});
