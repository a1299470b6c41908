import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../bench/profile.ts", import.meta.url));

async function profile(...args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

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
