import assert from "node:assert/strict";
import { benchScript } from "./cli_run.ts";

const versus = (...args: string[]) => benchScript("versus.ts", ...args);

Deno.test("bench/versus.ts names a bad workload, count or revision in one line, exit 1", async () => {
  for (
    const [args, expected] of [
      [["--only", "cnn_eval,nope"], /unknown workload "nope"; choose from cnn_eval/],
      [["--reps", "0"], /--reps must be a positive integer, got "0"/],
      [["--per-wait", "1.5"], /--per-wait must be a positive integer, got "1.5"/],
      [["--base", "no-such-revision-xyz"], /git rev-parse failed/],
    ] as const
  ) {
    const { code, stderr } = await versus(...args);
    assert.equal(code, 1, stderr);
    assert.match(stderr, expected);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});
