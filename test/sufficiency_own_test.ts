/**
 * The one-command answer end to end: a PyTorch model (state dict + spec from
 * test/fixtures/torch_state.py) on the user's .npy arrays, through the CLI.
 */
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { encodeNpy } from "../src/data/npy.ts";
import { synthetic } from "../src/data/synthetic.ts";
import { sufficiencyAnswer } from "../src/cli/sufficiency_answer.ts";
import type { Sufficiency } from "../src/landscape/sufficiency.ts";
import { cli } from "./cli_run.ts";
import { gpuTest } from "./helpers.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
/** Writes images [n, 1, 8, 8] and labels as x.npy and y.npy in `dir`; the options naming them. */
async function npyData(
  dir: string,
  images: ArrayLike<number>,
  labels: ArrayLike<number>,
): Promise<string[]> {
  const n = labels.length;
  await Deno.writeFile(`${dir}/x.npy`, encodeNpy([n, 1, 8, 8], images));
  await Deno.writeFile(`${dir}/y.npy`, encodeNpy([n], labels, "int64"));
  return ["--data", "npy", "--x", `${dir}/x.npy`, "--y", `${dir}/y.npy`];
}

const MODEL = [
  "--model-spec",
  `${FIXTURES}torch_state.spec.json`,
  "--checkpoint",
  `${FIXTURES}torch_state.safetensors`,
];

gpuTest("sufficiency on .npy data with a model spec answers for the user's samples", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sufficiency own " });
  try {
    const d = synthetic({ samples: 60, seed: 2, part: 0 });
    const r = await cli(
      "sufficiency",
      ...MODEL,
      ...await npyData(dir, d.images, d.labels),
      "--samples",
      "41",
      "--points",
      "8",
      "--threshold",
      "1e-2",
      "--out",
      `${dir}/out`,
    );
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      /^Δk (stays below 0\.01 from k\* = \d+|does not stay below 0\.01 by k = 40).*; your data has 60 samples: (enough|not enough)/m,
    );
    const answer = JSON.parse(await Deno.readTextFile(`${dir}/out/sufficiency.json`));
    assert.equal(answer.available, 60);
    assert.ok(r.out.includes(answer.answer), "the printed answer is the written one");
    const report = await Deno.readTextFile(`${dir}/out/report.md`);
    assert.ok(report.includes(`**${answer.answer}.**`), report);
    for (const f of ["delta.csv", "delta.png", "delta.svg"]) await Deno.stat(`${dir}/out/${f}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

gpuTest("losses on .npy data give PyTorch's per-sample losses, indexed by row", async () => {
  const dir = await Deno.makeTempDir({ prefix: "losses own " });
  try {
    const f = JSON.parse(await Deno.readTextFile(`${FIXTURES}torch_state.json`));
    const r = await cli(
      "losses",
      ...MODEL,
      ...await npyData(dir, f.x, f.labels),
      "--out",
      `${dir}/out`,
    );
    assert.equal(r.code, 0, r.out);
    const rows = (await Deno.readTextFile(`${dir}/out/losses.csv`)).trim().split(/\r?\n/).slice(1)
      .map((l) => l.split(",").map(Number));
    assert.deepEqual(rows.map((row) => row[0]), [0, 1, 2, 3, 4, 5]);
    for (const [index, label, loss] of rows) {
      assert.equal(label, f.labels[index]);
      const err = Math.abs(loss - f.losses[index]) / f.losses[index];
      assert.ok(err <= 1e-5, `row ${index}: ${loss} vs PyTorch's ${f.losses[index]}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the answer compares k* with the samples the user has", () => {
  const common = { threshold: 1e-6, measured: [1, 1000] as [number, number] };
  const extrapolated = (k: number) =>
    ({
      ...common,
      status: "extrapolated",
      k,
      interval: [k - 10, k + 10],
    }) as unknown as Sufficiency;
  assert.equal(
    sufficiencyAnswer(extrapolated(1500), 1e-6, 1200),
    "Δk does not stay below 0.000001 by k = 1000; extrapolated k* = 1500 (95% CI 1490 to 1510); " +
      "your data has 1200 samples: not enough",
  );
  assert.match(
    sufficiencyAnswer(extrapolated(1500), 1e-6, 5000),
    /5000 samples: enough \(by extrapolation\)$/,
  );
  const reached = {
    ...common,
    status: "reached",
    k: 300,
    interval: null,
  } as unknown as Sufficiency;
  assert.equal(
    sufficiencyAnswer(reached, 1e-6, 1001),
    "Δk stays below 0.000001 from k* = 300; your data has 1001 samples: enough",
  );
  const none = { ...common, status: "not-reached", reason: "no fit" } as unknown as Sufficiency;
  assert.match(
    sufficiencyAnswer(none, 1e-6, 10),
    /\(no fit\); your data has 10 samples: not known to be enough$/,
  );
});
