/**
 * A checkpoint's training split: recorded by train, reused by landscape, delta, sufficiency and
 * losses whatever their own --seed, assumed (and said so) for checkpoints without the record.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { select } from "../src/data/dataset.ts";
import { loadData } from "../src/data/load.ts";
import { synthetic } from "../src/data/synthetic.ts";
import { curveFromDifferences } from "../src/landscape/delta.ts";
import { estimateDifferences } from "../src/landscape/estimate.ts";
import { csvNumber, parseCsv } from "../src/report/csv.ts";
import { loadCheckpoint } from "../src/train/checkpoint.ts";
import { decodeSafetensors, encodeSafetensors } from "../src/train/safetensors.ts";
import {
  readSplit,
  sourceIndices,
  SPLIT_KEY,
  splitMetadata,
  trainingSplit,
} from "../src/train/training_split.ts";
import { cli } from "./cli_run.ts";
import { assertClose, gpuTest, testGpu } from "./helpers.ts";

/** A tiny MLP trained on synthetic data with seed 0 (once per test process). */
let trained: Promise<string> | null = null;
function checkpoint(): Promise<string> {
  return trained ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "split test " });
    addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const r = await cli(
      ...["train", "--data", "synthetic", "--hidden", "12", "--layers", "1", "--epochs", "1"],
      // A step large enough that one epoch is clearly better than chance (train refuses less).
      ...["--lr", "1e-2", "--seed", "0", "--out", dir],
    );
    assert.equal(r.code, 0, r.out);
    return dir;
  })();
}

/** A copy of the checkpoint in `dir` with its metadata changed by `edit`. */
async function withMetadata(
  dir: string,
  edit: (m: Record<string, string>) => void,
): Promise<string> {
  const from = join(await checkpoint(), "model.safetensors");
  const { tensors, metadata } = decodeSafetensors(from, await Deno.readFile(from));
  edit(metadata);
  const path = join(dir, "old.safetensors");
  await Deno.writeFile(path, encodeSafetensors(tensors, metadata));
  return path;
}

/** Values of one column of a CSV file written by the CLI. */
async function column(path: string, name: string): Promise<number[]> {
  const [header, ...rows] = parseCsv(await Deno.readTextFile(path));
  const at = header.indexOf(name);
  return rows.map((r) => csvNumber(r[at]));
}

// The CLI's default estimator: antithetic pairs.
const DELTA = { sigma: 0.01, points: 4, samples: 40, estimator: "antithetic" as const };

/** Δk that delta --seed 3 must give: on the training part of the seed-0 split. */
async function expectedDelta(ck: string): Promise<number[]> {
  const { model } = await loadCheckpoint(await testGpu(), ck);
  const data = await loadData({ data: "synthetic", seed: 0 });
  const rows = await estimateDifferences(model, data.train, { ...DELTA, seed: 3 });
  model.dispose();
  return [...curveFromDifferences(rows, DELTA.points).delta];
}

async function delta(ck: string, out: string) {
  return await cli(
    ...["delta", "--checkpoint", ck, "--data", "synthetic", "--seed", "3"],
    ...["--sigma", `${DELTA.sigma}`, "--points", `${DELTA.points}`],
    ...["--samples", `${DELTA.samples}`, "--out", out],
  );
}

Deno.test("a split record round-trips through metadata; a damaged one names the file", () => {
  const data = {
    train: synthetic({ samples: 30, part: 0 }),
    validation: synthetic({ samples: 5, part: 0 }),
    test: synthetic({ samples: 7, part: 1 }),
  };
  const split = trainingSplit("synthetic", 4, data, 35);
  assert.deepEqual(split, {
    data: "synthetic",
    seed: 4,
    trainLimit: 35,
    train: 30,
    validation: 5,
    test: 7,
  });
  assert.equal(
    trainingSplit("synthetic", 4, data, 36).trainLimit,
    undefined,
    "a limit that cut nothing",
  );
  assert.deepEqual(readSplit(splitMetadata(split), "m.safetensors"), split);
  assert.equal(readSplit({ seed: "1" }, "m.safetensors"), undefined);
  for (const bad of ["{", "null", '{"data":"synthetic","seed":-1,"train":3,"validation":1}']) {
    assert.throws(
      () => readSplit({ [SPLIT_KEY]: bad }, "m.safetensors"),
      /^SafetensorsError: m\.safetensors: metadata "split" is not a training split record/,
    );
  }
});

Deno.test("a split's source indices pick exactly the samples loadData splits off", async () => {
  const loaded = await loadData({ data: "synthetic", seed: 5, validation: 300 });
  const split = trainingSplit("synthetic", 5, loaded);
  const file = synthetic({ samples: 2400, seed: 5, part: 0 });
  for (const part of ["train", "validation"] as const) {
    const picked = select(file, sourceIndices(split, part));
    assert.deepEqual(picked.images, loaded[part].images, part);
    assert.deepEqual(picked.labels, loaded[part].labels, part);
  }
  assert.deepEqual([...sourceIndices(split, "test")], [...loaded.test.labels.keys()]);
});

gpuTest(
  "the preset experiments' checkpoints record the split they were trained on",
  async (gpu) => {
    const out = await Deno.makeTempDir();
    try {
      const r = await cli("all", "--preset", "tiny", "--train-only", "--epochs", "1", "--out", out);
      assert.equal(r.code, 0, r.out);
      const split = trainingSplit("synthetic", 0, await loadData({ data: "synthetic" }));
      for (const id of ["mlp-bn-seed0", "cnn2-plain-seed1"]) {
        const path = join(out, "models", `${id}.safetensors`);
        const { model, info } = await loadCheckpoint(gpu, path);
        model.dispose();
        assert.deepEqual(readSplit(info, path), split, id);
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);

gpuTest("delta with a --seed other than the training seed uses the training split", async () => {
  const ck = join(await checkpoint(), "model.safetensors");
  const out = await Deno.makeTempDir();
  try {
    const r = await delta(ck, out);
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /records no training split/);
    const got = await column(join(out, "delta.csv"), "delta");
    assertClose(got, await expectedDelta(ck), { rtol: 1e-6 }, "Δk");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

gpuTest("a checkpoint without a split record loads, saying which split it assumes", async () => {
  const out = await Deno.makeTempDir();
  try {
    const old = await withMetadata(out, (m) => delete m[SPLIT_KEY]);
    const r = await delta(old, join(out, "d"));
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      /note: .*old\.safetensors records no training split; assuming synthetic with 2200 train \+ 200 validation samples \(hold-out seed 0\), 600 test, by its training seed/,
    );
    const got = await column(join(out, "d", "delta.csv"), "delta");
    assertClose(got, await expectedDelta(old), { rtol: 1e-6 }, "Δk");
    const unseeded = await withMetadata(out, (m) => {
      delete m[SPLIT_KEY];
      delete m.seed;
    });
    const l = await cli("losses", "--checkpoint", unseeded, "--data", "synthetic", "--out", out);
    assert.equal(l.code, 0, l.out);
    assert.match(l.out, /\(hold-out seed 0\), 600 test, by the default training seed/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

gpuTest("losses writes each sample of the chosen split with its file index", async () => {
  const dir = await checkpoint();
  const ck = join(dir, "model.safetensors");
  const summary = JSON.parse(await Deno.readTextFile(join(dir, "train.json")));
  const data = await loadData({ data: "synthetic", seed: 0 });
  const out = await Deno.makeTempDir();
  try {
    const t = await cli("losses", "--checkpoint", ck, "--split", "test", "--out", out);
    assert.equal(t.code, 0, t.out);
    const csv = join(out, "losses.csv");
    assert.deepEqual(await column(csv, "index"), [...data.test.labels.keys()]);
    assert.deepEqual(await column(csv, "label"), [...data.test.labels]);
    const losses = await column(csv, "loss"), correct = await column(csv, "correct");
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    assertClose([mean(losses)], [summary.test.loss], { rtol: 1e-5 }, "mean test loss");
    assert.equal(mean(correct), summary.test.accuracy);

    const r = await cli("losses", "--checkpoint", ck, "--out", out);
    assert.equal(r.code, 0, r.out);
    const split = trainingSplit("synthetic", 0, data);
    const index = await column(csv, "index");
    assert.deepEqual(index, [...sourceIndices(split, "train")]);
    assert.deepEqual(await column(csv, "label"), [...data.train.labels]);
    const heldOut = new Set(sourceIndices(split, "validation"));
    assert.ok(index.every((i) => !heldOut.has(i)), "no held-out sample among the train split");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
