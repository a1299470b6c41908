import assert from "node:assert/strict";
import { benchScript } from "./cli_run.ts";

const profile = (...args: string[]) => benchScript("profile.ts", ...args);

Deno.test("bench/profile.ts names a bad workload or count in one line, exit 1", async () => {
  for (
    const [args, expected] of [
      [[], /give one workload, got ""; choose from cnn_eval/],
      [["nope"], /give one workload, got "nope"; choose from cnn_eval/],
      [["cnn_eval", "mlp_eval"], /give one workload, got "cnn_eval mlp_eval"/],
      [["cnn_eval", "--reps", "0"], /--reps must be a positive integer, got "0"/],
      [["delta_mlp", "--points", "2.5"], /--points must be a positive integer, got "2.5"/],
    ] as const
  ) {
    const { code, stderr } = await profile(...args);
    assert.equal(code, 1, stderr);
    assert.match(stderr, expected);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});
