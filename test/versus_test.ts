import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../bench/versus.ts", import.meta.url));

async function versus(...args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

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
