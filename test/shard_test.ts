import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { cli } from "./cli_run.ts";
import { parseShard, shardFromEnvironment, shardRange } from "../src/landscape/shard.ts";
import { gpuTest } from "./helpers.ts";

Deno.test("shard slices cover every point once, in order, within one point of each other", () => {
  for (const total of [0, 1, 2, 7, 25, 100]) {
    for (const count of [1, 2, 3, 8, 30]) {
      let next = 0;
      const sizes: number[] = [];
      for (let index = 0; index < count; index++) {
        const r = shardRange(total, { index, count });
        assert.equal(r.first, next);
        sizes.push(r.end - r.first);
        next = r.end;
      }
      assert.equal(next, total);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${total} over ${count}: ${sizes}`);
    }
  }
});

Deno.test("shards are read from i/n, Slurm arrays and Kubernetes indexed jobs", () => {
  assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
  assert.deepEqual(parseShard(" 0 / 1 "), { index: 0, count: 1 });
  for (const bad of ["3/3", "1/0", "-1/3", "a/b", "1", ""]) {
    assert.throws(() => parseShard(bad), /a shard is "i\/n" with 0 <= i < n/, bad);
  }
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assert.deepEqual(
    shardFromEnvironment(env({ SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "4" })),
    { index: 1, count: 4 },
  );
  assert.deepEqual(
    shardFromEnvironment(env({
      SLURM_ARRAY_TASK_ID: "7",
      SLURM_ARRAY_TASK_COUNT: "3",
      SLURM_ARRAY_TASK_MIN: "3",
      SLURM_ARRAY_TASK_STEP: "2",
    })),
    { index: 2, count: 3 },
  );
  assert.throws(
    () => shardFromEnvironment(env({ SLURM_ARRAY_TASK_ID: "1" })),
    /SLURM_ARRAY_TASK_COUNT is not/,
  );
  assert.deepEqual(
    shardFromEnvironment(env({ JOB_COMPLETION_INDEX: "0", LANDSCAPE_SHARD_COUNT: "5" })),
    { index: 0, count: 5 },
  );
  assert.throws(
    () => shardFromEnvironment(env({ JOB_COMPLETION_INDEX: "0" })),
    /LANDSCAPE_SHARD_COUNT is not: set it to the Job's completions/,
  );
  assert.throws(
    () => shardFromEnvironment(env({ JOB_COMPLETION_INDEX: "5", LANDSCAPE_SHARD_COUNT: "5" })),
    /not below 5 shards/,
  );
  assert.throws(() => shardFromEnvironment(env({})), /found no scheduler/);
});

/** Runs the CLI in a process of its own, as a job scheduler would. */
async function cliProcess(args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", fileURLToPath(new URL("../src/cli.ts", import.meta.url)), ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 0, out);
  return out;
}

async function same(a: string, b: string, files: string[]): Promise<void> {
  for (const f of files) {
    const [x, y] = [await Deno.readFile(`${a}/${f}`), await Deno.readFile(`${b}/${f}`)];
    assert.ok(x.length > 0, `${a}/${f} is empty`);
    assert.deepEqual(y, x, `${f} differs between the single run and the merged shards`);
  }
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

gpuTest(
  "a grid and a Δk sweep run as 3 shard processes merge to the single run's exact bytes",
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const t = await cli(
        ...["train", "--data", "synthetic", "--hidden", "12", "--layers", "1", "--epochs", "1"],
        ...["--batch-norm", "--out", `${dir}/t`],
      );
      assert.equal(t.code, 0, t.out);
      const common = ["--checkpoint", `${dir}/t/model.safetensors`, "--data", "synthetic"];
      const landscape = [
        "landscape",
        ...common,
        ...["--grid", "5", "--eval-samples", "20", "--width-directions", "2"],
      ];
      const delta = ["delta", ...common, "--samples", "120", "--points", "10", "--reshuffle"];
      const subspace = [
        "sufficiency",
        ...common,
        ...["--samples", "90", "--points", "7", "--mode", "subspace", "--dim", "3"],
        ...["--estimator", "plain"],
      ];
      const cases = [
        { args: landscape, files: ["landscape.csv", "landscape.json", "landscape.svg"] },
        { args: delta, files: ["delta.csv", "delta.json", "delta.svg"] },
        { args: subspace, files: ["delta.csv", "sufficiency.json"] },
      ];
      for (const [c, { args, files }] of cases.entries()) {
        const single = `${dir}/single${c}`, sharded = `${dir}/sharded${c}`;
        const r = await cli(...args, "--out", single);
        assert.equal(r.code, 0, r.out);
        // Three processes; one takes its index from a Slurm array, one from a Kubernetes Job.
        await Promise.all([
          cliProcess([...args, "--out", sharded, "--shard", "0/3"]),
          cliProcess([...args, "--out", sharded, "--shard", "auto"], {
            SLURM_ARRAY_TASK_ID: "1",
            SLURM_ARRAY_TASK_COUNT: "3",
          }),
          cliProcess([...args, "--out", sharded, "--shard", "auto"], {
            JOB_COMPLETION_INDEX: "2",
            LANDSCAPE_SHARD_COUNT: "3",
          }),
        ]);
        for (const f of files) assert.ok(!(await exists(`${sharded}/${f}`)), `${f} before merge`);
        const m = await cli("merge", "--out", sharded);
        assert.equal(m.code, 0, m.out);
        assert.match(m.out, new RegExp(`merge: 3 shards of ${args[0]}`));
        await same(single, sharded, files);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest(
  "merge refuses missing, duplicated, foreign and damaged shards and writes nothing",
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const t = await cli(
        ...["train", "--data", "synthetic", "--hidden", "8", "--layers", "1", "--epochs", "1"],
        ...["--out", `${dir}/t`],
      );
      assert.equal(t.code, 0, t.out);
      const args = (seed: number, out: string, shard: string) => [
        ...["delta", "--checkpoint", `${dir}/t/model.safetensors`, "--data", "synthetic"],
        ...["--samples", "50", "--points", "6", "--seed", String(seed)],
        ...["--out", out, "--shard", shard],
      ];
      const run = `${dir}/run`;
      for (const i of [0, 1, 2]) assert.equal((await cli(...args(0, run, `${i}/3`))).code, 0);
      const merged = ["delta.csv", "delta.json", "delta.svg", "delta.png"];
      const nothingWritten = async () => {
        for (const f of merged) assert.ok(!(await exists(`${run}/${f}`)), `${f} was written`);
      };

      // Missing: shard 1 is moved away.
      await Deno.rename(`${run}/shards/shard-1-of-3`, `${dir}/kept`);
      let r = await cli("merge", "--out", run);
      assert.equal(r.code, 2);
      assert.match(r.out, /missing shard 1 of 3: run --shard 1\/3/);
      await nothingWritten();

      // Duplicated: the same shard in two places.
      await Deno.mkdir(`${dir}/copy/shards`, { recursive: true });
      await Deno.rename(`${dir}/kept`, `${run}/shards/shard-1-of-3`);
      await cli(...args(0, `${dir}/copy`, "1/3"));
      r = await cli("merge", "--out", run, "--from", `${dir}/copy`);
      assert.equal(r.code, 2);
      assert.match(r.out, /shard 1 of 3 appears twice: .*shard-1-of-3 and .*copy.*shard-1-of-3/);
      await nothingWritten();

      // Another configuration (a different seed).
      await cli(...args(1, `${dir}/other`, "2/3"));
      await Deno.remove(`${run}/shards/shard-2-of-3`, { recursive: true });
      r = await cli("merge", "--out", run, "--from", `${dir}/other`);
      assert.equal(r.code, 2);
      assert.match(r.out, /is a shard of a different configuration .*options.seed: 1 vs 0/);
      await nothingWritten();

      // Damaged values.
      await cli(...args(0, run, "2/3"));
      const file = `${run}/shards/shard-2-of-3/differences.f32`;
      const bytes = await Deno.readFile(file);
      bytes[5] ^= 1;
      await Deno.writeFile(file, bytes);
      r = await cli("merge", "--out", run);
      assert.equal(r.code, 2);
      assert.match(r.out, /differences\.f32 is damaged .*rerun --shard 2\/3/);
      await nothingWritten();

      // Repaired, it merges.
      await cli(...args(0, run, "2/3"));
      r = await cli("merge", "--out", run);
      assert.equal(r.code, 0, r.out);
      for (const f of merged) assert.ok(await exists(`${run}/${f}`), f);

      r = await cli("merge", "--out", `${dir}/t`);
      assert.equal(r.code, 2);
      assert.match(r.out, /no shards found/);
      r = await cli(...args(0, run, "3/3"));
      assert.equal(r.code, 2);
      assert.match(r.out, /--shard: a shard is "i\/n" with 0 <= i < n/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest(
  "the preset experiments train once, run as 3 shard processes, and merge to a single run's files",
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const preset = ["--preset", "tiny"];
      const single = `${dir}/single`, sharded = `${dir}/sharded`;
      assert.equal((await cli("all", ...preset, "--out", single)).code, 0);
      const early = await cli("all", ...preset, "--out", sharded, "--shard", "1/3");
      assert.equal(early.code, 2);
      assert.match(early.out, /are not trained in .*: train them once before the shards/);
      assert.match(early.out, /deno task experiment all --train-only --preset tiny --out /);
      assert.equal((await cli("all", ...preset, "--out", sharded, "--train-only")).code, 0);
      // Shards 0 and 1 share the run folder; shard 2 runs on "another machine" with a copy.
      const other = `${dir}/other`;
      await copyTree(sharded, other);
      await Promise.all([
        cliProcess(["all", ...preset, "--out", sharded, "--shard", "0/3"]),
        cliProcess(["all", ...preset, "--out", sharded, "--shard", "1/3"]),
        cliProcess(["all", ...preset, "--out", other, "--shard", "2/3"]),
      ]);
      const alone = await cli("merge", "--out", sharded);
      assert.equal(alone.code, 2);
      assert.match(alone.out, /missing shard 2 of 3/);
      assert.ok(!(await exists(`${sharded}/report.md`)), "no report before the merge");
      const m = await cli("merge", "--out", sharded, "--from", other);
      assert.equal(m.code, 0, m.out);
      assert.match(m.out, /merge: 3 shards of all/);
      const csvs = [];
      for await (const f of Deno.readDir(`${single}/curves`)) csvs.push(`curves/${f.name}`);
      for await (const f of Deno.readDir(`${single}/landscapes`)) {
        if (f.name.endsWith(".csv")) csvs.push(`landscapes/${f.name}`);
      }
      csvs.push("fig2/widths.csv", "fig3/widths.csv", "fig4/widths.csv", "fig4/width_means.csv");
      csvs.push("report.json");
      assert.ok(csvs.length > 15, `${csvs.length} files compared`);
      await same(single, sharded, csvs);

      // A folder whose files disagree with the run's is refused before anything is copied.
      await Deno.remove(`${sharded}/report.md`);
      await Deno.writeTextFile(`${other}/fig4/widths.csv`, "changed\r\n");
      await Deno.writeTextFile(`${other}/extra.txt`, "not copied\n");
      const conflict = await cli("merge", "--out", sharded, "--from", other);
      assert.equal(conflict.code, 2);
      assert.match(
        conflict.out,
        /fig4\/widths\.csv differs from .*: these folders are not shards of one run/,
      );
      assert.ok(!(await exists(`${sharded}/report.md`)) && !(await exists(`${sharded}/extra.txt`)));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
