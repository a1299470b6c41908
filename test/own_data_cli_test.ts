import assert from "node:assert/strict";
import { encodeNpy } from "../src/data/npy.ts";
import { synthetic } from "../src/data/synthetic.ts";
import { cli } from "./cli_run.ts";
import { gpuTest } from "./helpers.ts";

gpuTest(
  "train on .npy files, then losses names each sample by its row in the user's file",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "own data cli " });
    try {
      const d = synthetic({ samples: 300, seed: 5, part: 0 });
      await Deno.writeFile(`${dir}/x.npy`, encodeNpy([300, 1, 8, 8], d.images));
      await Deno.writeFile(`${dir}/y.npy`, encodeNpy([300], d.labels, "uint8"));
      const data = ["--data", "npy", "--x", `${dir}/x.npy`, "--y", `${dir}/y.npy`];
      const t = await cli(
        "train",
        ...data,
        "--test-fraction",
        "0.2",
        "--normalize",
        "mean-std",
        "--hidden",
        "16",
        "--layers",
        "1",
        "--epochs",
        "3",
        "--lr",
        "1e-2",
        "--out",
        `${dir}/t`,
      );
      assert.equal(t.code, 0, t.out);
      assert.match(t.out, /220 train, 20 validation, 60 test/);
      // The checkpoint records the split and the statistics: the analysis needs neither option.
      const l = await cli(
        "losses",
        "--checkpoint",
        `${dir}/t/model.safetensors`,
        ...data,
        "--split",
        "test",
        "--out",
        `${dir}/l`,
      );
      assert.equal(l.code, 0, l.out);
      const rows = (await Deno.readTextFile(`${dir}/l/losses.csv`)).trim().split(/\r?\n/).slice(1)
        .map((r) => r.split(",").map(Number));
      assert.equal(rows.length, 60);
      for (const [index, label] of rows) assert.equal(label, d.labels[index], `row ${index}`);
      assert.ok(rows.some(([index]) => index >= 240), "test rows come from the whole file");
      const again = await cli(
        "losses",
        "--checkpoint",
        `${dir}/t/model.safetensors`,
        ...data,
        "--normalize",
        "mean-std",
        "--out",
        `${dir}/l2`,
      );
      assert.equal(again.code, 2);
      assert.match(again.out, /records the normalisation it was trained with; leave --normalize/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
