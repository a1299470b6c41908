import assert from "node:assert/strict";
import { cli } from "./cli_run.ts";
import { loadCheckpoint } from "../src/train/checkpoint.ts";
import { gpuTest } from "./helpers.ts";

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
  assert.match(
    r.out,
    /--data must be one of fashion-mnist, cifar10, synthetic, npy, csv, images, got "mnist"/,
  );
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

gpuTest(
  "landscape, delta and sufficiency run on a trained checkpoint and write what they say",
  async () => {
    const out = await Deno.makeTempDir();
    try {
      const t = await cli(
        "train",
        "--data",
        "synthetic",
        "--hidden",
        "12",
        "--layers",
        "1",
        "--epochs",
        "1",
        // A step large enough that one epoch is clearly better than chance (train refuses less).
        "--lr",
        "1e-2",
        "--out",
        `${out}/t`,
      );
      assert.equal(t.code, 0, t.out);
      const ck = `${out}/t/model.safetensors`;
      const d = await cli(
        "delta",
        "--checkpoint",
        ck,
        "--data",
        "synthetic",
        "--samples",
        "200",
        "--points",
        "16",
        "--out",
        `${out}/d`,
      );
      assert.equal(d.code, 0, d.out);
      const rows = (await Deno.readTextFile(`${out}/d/delta.csv`)).trim().split("\r\n");
      assert.equal(rows.length, 1 + 199);
      const header = rows[0].split(",");
      assert.deepEqual(
        header.slice(0, 6),
        ["k", "delta", "delta_se", "data_term", "landscape_term", "landscape_se"],
      );
      for (const row of rows.slice(1)) {
        const [, delta, , data, landscape] = row.split(",").map(Number);
        assert.ok(Math.abs(data + landscape - delta) <= 1e-15 * delta, row);
      }
      const json = JSON.parse(await Deno.readTextFile(`${out}/d/delta.json`));
      assert.match(d.out, new RegExp(`p = ${json.fit.p.toFixed(3)}`));
      assert.equal(json.estimator, "antithetic");
      assert.deepEqual(json.terms.map((t: { k: number }) => t.k), [11, 101]);
      assert.ok(json.terms.every((t: { varianceRatio: number }) => t.varianceRatio > 0));
      assert.ok(json.tails.at[0].ess.value > 0);
      assert.match(d.out, /Δ_11 = .* = data term .* \+ landscape term .*; antithetic pairs cut/);
      const s = await cli(
        "sufficiency",
        "--checkpoint",
        ck,
        "--data",
        "synthetic",
        "--samples",
        "200",
        "--points",
        "16",
        "--threshold",
        "1e-4",
        "--out",
        `${out}/s`,
      );
      assert.equal(s.code, 0, s.out);
      const suff = JSON.parse(await Deno.readTextFile(`${out}/s/sufficiency.json`));
      assert.ok(["reached", "extrapolated", "not-reached"].includes(suff.status));
      assert.ok(["data term", "landscape term"].includes(suff.atK.dominant));
      assert.match(s.out, /the (data|landscape) term dominates \(data term/);
      const l = await cli(
        "landscape",
        "--checkpoint",
        ck,
        "--data",
        "synthetic",
        "--grid",
        "5",
        "--eval-samples",
        "20",
        "--width-directions",
        "2",
        "--out",
        `${out}/l`,
      );
      assert.equal(l.code, 0, l.out);
      assert.equal(
        (await Deno.readTextFile(`${out}/l/landscape.csv`)).trim().split("\r\n").length,
        26,
      );
      const bad = await cli("delta", "--checkpoint", ck, "--pool", "2");
      assert.equal(bad.code, 2);
      assert.match(bad.out, /the model expects \[1,8,8\] inputs, the data gives \[1,4,4\]/);
      const none = await cli("delta", "--data", "synthetic");
      assert.match(none.out, /--checkpoint is required/);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);
