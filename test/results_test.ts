/** Experiment results are reported only under the options and context they were computed with. */
import assert from "node:assert/strict";
import type { Gpu } from "../src/gpu/gpu.ts";
import { PRESETS } from "../src/experiments/presets.ts";
import { loadResults, saveResult } from "../src/experiments/results.ts";
import { Run } from "../src/experiments/run.ts";

const NO_GPU = undefined as unknown as Gpu;

Deno.test("results of other options, data or core, or damaged, are left out and named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const context = { data: { train: 10 }, kernels: "register" };
    const run = (preset = PRESETS.tiny, ctx: Record<string, unknown> = context) =>
      new Run(dir, NO_GPU, preset, ctx, () => {});
    await saveResult(run(), "fig6", { maps: [], files: [] });
    assert.deepEqual(await loadResults(run()), {
      results: { fig6: { maps: [], files: [] } },
      left: [],
    });
    // A report written without loading data checks the options only.
    assert.deepEqual((await loadResults(run(PRESETS.tiny, {}))).left, []);
    // The data's location is not what the results depend on.
    assert.deepEqual((await loadResults(run({ ...PRESETS.tiny, dataDir: "elsewhere" }))).left, []);

    const cases: [Run, string][] = [
      [
        run({ ...PRESETS.tiny, epochs: 3, integrandGrid: 7 }),
        "fig6: computed with other options (--epochs 2 → 3, --integrand-grid 5 → 7); rerun fig6 with this run's options",
      ],
      [
        run(PRESETS.tiny, { ...context, kernels: "tiled" }),
        "fig6: computed with other kernels (register → tiled); rerun fig6 with this run's options",
      ],
      [
        run(PRESETS.tiny, { ...context, data: { train: 12 } }),
        "fig6: computed with other data (train 10 → 12); rerun fig6 with this run's options",
      ],
    ];
    for (const [other, line] of cases) {
      assert.deepEqual(await loadResults(other), { results: {}, left: [line] });
    }
    await Deno.writeTextFile(`${dir}/results/fig6.json`, '{"maps": [');
    assert.deepEqual((await loadResults(run())).left, [
      "fig6: results/fig6.json is damaged (not valid JSON); rerun fig6",
    ]);
    await Deno.writeTextFile(`${dir}/results/fig6.json`, '{"maps": [], "files": []}');
    assert.deepEqual((await loadResults(run())).left, [
      "fig6: results/fig6.json does not say what it was computed from; rerun fig6",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
