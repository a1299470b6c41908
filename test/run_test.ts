/**
 * Run folder steps: when a record stands for its step, what is said when it does not, and when
 * the run's description is written.
 */
import assert from "node:assert/strict";
import type { Gpu } from "../src/gpu/gpu.ts";
import { PRESETS } from "../src/experiments/presets.ts";
import { Run, type StepSpec } from "../src/experiments/run.ts";
import { describeChanges } from "../src/experiments/changes.ts";

const NO_GPU = undefined as unknown as Gpu;

const files = (dir: string): string[] =>
  [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory ? files(`${dir}/${e.name}`).map((f) => `${e.name}/${f}`) : [e.name]
  ).sort();

Deno.test("a run's description (run.json) is written with its first step record, never alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Steps do not touch the device here.
    const run = new Run(dir, NO_GPU, PRESETS.tiny, {}, () => {});
    run.describe("run.json", "{}\n");
    const failing = () => Promise.reject(new Error("boom"));
    await assert.rejects(() => run.step("a", { params: {} }, failing), /boom/);
    assert.deepEqual(files(dir), [], "a failed first step leaves no run.json");
    assert.equal(await run.step("b", { params: {} }, () => Promise.resolve(1)), 1);
    assert.deepEqual(files(dir), ["run.json", "steps/b.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A run in `dir` whose steps' lines land in `lines`. */
function runIn(dir: string, lines: string[], context: Record<string, unknown> = {}): Run {
  return new Run(dir, NO_GPU, PRESETS.tiny, context, (l) => lines.push(l));
}

/** A step that reads `models/m.bin` and writes `out/a.csv`; counts its computations. */
async function step(run: Run, params: unknown, counter: { n: number }): Promise<number> {
  const spec: StepSpec = { params, reads: ["models/m.bin"], writes: ["out/a.csv"] };
  return await run.step("s", spec, async () => {
    counter.n++;
    await Deno.writeTextFile(await run.path("out/a.csv"), `a\n${counter.n}\n`);
    return counter.n;
  });
}

Deno.test("a step record stands only for the same options, context, inputs and intact outputs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/models`);
    await Deno.writeTextFile(`${dir}/models/m.bin`, "weights 1");
    const counter = { n: 0 };
    const lines: string[] = [];
    const context = { data: { train: 10, sha256: "a".repeat(64) }, kernels: "register" };
    const fresh = () => runIn(dir, lines, context);
    assert.equal(await step(fresh(), { epochs: 2 }, counter), 1);
    assert.equal(await step(fresh(), { epochs: 2 }, counter), 1, "skipped");
    assert.match(lines.at(-1)!, /^s: done earlier, skipped$/);

    const cases: [() => Promise<void>, Run, unknown, string][] = [
      [async () => {}, fresh(), { epochs: 3 }, "options changed (epochs 2 → 3)"],
      [
        async () => {},
        runIn(dir, lines, { ...context, data: { train: 12, sha256: "b".repeat(64) } }),
        { epochs: 3 },
        "data changed (train 10 → 12, sha256 aaaaaaaaaaaa… → bbbbbbbbbbbb…)",
      ],
      [
        async () => {},
        fresh(),
        { epochs: 3 },
        "data changed (train 12 → 10, sha256 bbbbbbbbbbbb… → aaaaaaaaaaaa…)",
      ],
      [
        async () => {},
        runIn(dir, lines, { ...context, kernels: "tiled" }),
        { epochs: 3 },
        "kernels changed (register → tiled)",
      ],
      [async () => {}, fresh(), { epochs: 3 }, "kernels changed (tiled → register)"],
      [
        () => Deno.writeTextFile(`${dir}/models/m.bin`, "weights 2"),
        fresh(),
        { epochs: 3 },
        "input models/m.bin changed",
      ],
      [
        () => Deno.remove(`${dir}/out/a.csv`),
        fresh(),
        { epochs: 3 },
        "its output out/a.csv is missing",
      ],
      [
        () => Deno.writeTextFile(`${dir}/out/a.csv`, "a\n1\n"),
        fresh(),
        { epochs: 3 },
        "its output out/a.csv is damaged or was edited (its SHA-256 differs from steps/s.json)",
      ],
      [
        () => Deno.writeTextFile(`${dir}/steps/s.json`, "{"),
        fresh(),
        { epochs: 3 },
        "steps/s.json is damaged (not valid JSON)",
      ],
      [
        async () => {
          const r = JSON.parse(await Deno.readTextFile(`${dir}/steps/s.json`));
          await Deno.writeTextFile(`${dir}/steps/s.json`, JSON.stringify({ ...r, result: 99 }));
        },
        fresh(),
        { epochs: 3 },
        "steps/s.json is damaged (its checksum does not match its contents)",
      ],
    ];
    for (const [damage, run, params, why] of cases) {
      await damage();
      const before = counter.n;
      assert.equal(await step(run, params, counter), before + 1, why);
      assert.deepEqual(lines.slice(-2), [`s: recomputing, ${why}`, "s: finished in 0s"]);
    }
    assert.equal(await step(fresh(), { epochs: 3 }, counter), counter.n, "skipped at the end");
    assert.match(lines.at(-1)!, /^s: done earlier, skipped$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("describeChanges names each changed leaf, shortens digests, and counts the rest", () => {
  assert.equal(describeChanges({ a: 1, b: [1, 2] }, { a: 1, b: [1, 2] }), "");
  assert.equal(describeChanges({ a: 1, b: [1, 2] }, { a: 2, b: [1, 3] }), "a 1 → 2, b 1,2 → 1,3");
  assert.equal(describeChanges({ c: { d: "x" } }, { c: {} }), "c.d x → none");
  assert.equal(describeChanges("register", "tiled"), "register → tiled");
  assert.equal(describeChanges({ n: NaN }, { n: null }), "", "as JSON, NaN is null");
  assert.equal(
    describeChanges({ a: 1, b: 1, c: 1, d: 1, e: 1 }, { a: 2, b: 2, c: 2, d: 2, e: 2 }),
    "a 1 → 2, b 1 → 2, c 1 → 2, and 2 more",
  );
});
