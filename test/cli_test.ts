import assert from "node:assert/strict";
import { main } from "../src/cli.ts";
import { loadCheckpoint } from "../src/train/checkpoint.ts";
import { gpuTest } from "./helpers.ts";

/** Runs the CLI with console output captured. */
async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const saved = [console.log, console.error];
  console.log = console.error = (...a: unknown[]) => void (out += a.join(" ") + "\n");
  try {
    return { code: await main(args), out };
  } finally {
    [console.log, console.error] = saved;
  }
}

Deno.test("bad command lines exit non-zero with a message naming the problem", async () => {
  let r = await cli("nonsense");
  assert.equal(r.code, 2);
  assert.match(r.out, /unknown command "nonsense"/);
  r = await cli("train", "--bogus", "1");
  assert.equal(r.code, 2);
  assert.match(r.out, /Unknown option '--bogus'/);
  r = await cli("train", "--epochs", "0");
  assert.match(r.out, /--epochs must be an integer in \[1, ∞\], got 0/);
  r = await cli("train", "--lr=-1");
  assert.match(r.out, /--lr must be > 0, got -1/);
  r = await cli("train", "--lr", "-1");
  assert.match(r.out, /Option '--lr' argument is ambiguous.*'--lr=-XYZ'/s);
  r = await cli("train", "--data", "mnist");
  assert.match(r.out, /--data must be one of fashion-mnist, cifar10, synthetic, got "mnist"/);
  r = await cli("train", "--data-dir", "/nonexistent/dir");
  assert.equal(r.code, 2);
  assert.match(r.out, /--data-dir "\/nonexistent\/dir" does not exist/);
  r = await cli("train", "--data", "cifar10");
  assert.equal(r.code, 1);
  assert.match(r.out, /--data cifar10 needs --data-dir/);
  r = await cli("train", "extra");
  assert.match(r.out, /unexpected argument "extra"/);
  r = await cli("train", "--help");
  assert.equal(r.code, 0);
  assert.match(r.out, /--batch-norm/);
});

gpuTest("train writes a checkpoint and a summary that agree", async (gpu) => {
  const out = await Deno.makeTempDir();
  try {
    const r = await cli(
      "train",
      "--data",
      "synthetic",
      "--hidden",
      "16",
      "--layers",
      "1",
      "--epochs",
      "2",
      "--batch-norm",
      "--out",
      out,
    );
    assert.equal(r.code, 0, r.out);
    const summary = JSON.parse(await Deno.readTextFile(`${out}/train.json`));
    assert.equal(summary.epochs.length, 2);
    assert.ok(summary.test.accuracy > 0.3, `test accuracy ${summary.test.accuracy}`);
    const loaded = await loadCheckpoint(gpu, `${out}/model.safetensors`);
    assert.deepEqual(loaded.model.config, summary.config);
    assert.equal(Number(loaded.info.testAccuracy), summary.test.accuracy);
    loaded.model.dispose();
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
