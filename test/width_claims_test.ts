/**
 * The Figs. 2-4 claims of the report, drawn from synthetic widths of replicated models: a known
 * effect holds, none is inconclusive, the reverse is contradicted, each with its CI.
 */
import assert from "node:assert/strict";
import {
  claims,
  RAYS_AT_THE_EDGE,
  reportBlocks,
  type ReportRun,
  type RunResults,
} from "../src/experiments/report.ts";
import { PRESETS } from "../src/experiments/presets.ts";
import { summarizeSeeds } from "../src/experiments/compare.ts";
import type { LandscapeFigure, LandscapeResult } from "../src/experiments/landscapes.ts";

const TRAINED = {
  testAccuracy: 0.9,
  testLoss: 0.3,
  bestEpoch: 2,
  validationAccuracy: 0.9,
  seconds: 1,
};

/** A model whose seeds have these widths, each ± 0.02 over 12 rays. */
function model(id: string, label: string, widths: number[]): LandscapeResult {
  const seeds = widths.map((radius, seed) => ({
    seed,
    id: `${id}-seed${seed}`,
    trained: TRAINED,
    centerLoss: 0.3,
    width: { radius, se: 0.02, censored: 0, rays: 12 },
  }));
  return {
    id,
    label,
    seeds,
    width: summarizeSeeds(widths.map((value) => ({ value, se: 0.02 }))),
    map: { id: `${id}-seed0`, centerLoss: 0.3, minLoss: 0.3, maxLoss: 3 },
  };
}

function fig2(bnDropout: number[], bn: number[], plain: number[]): LandscapeFigure {
  return {
    figure: "fig2",
    title: "Fig. 2",
    variants: [
      model("cnn4-bn-dropout", "batch norm + dropout", bnDropout),
      model("cnn4-bn", "batch norm", bn),
      model("cnn4-plain", "neither", plain),
    ],
    files: [],
  };
}

function claim(r: RunResults, id: string) {
  const c = claims(r).find((c) => c.id === id);
  assert.ok(c, id);
  return c;
}

Deno.test("Fig. 2 claims over seeds: a known effect holds, none is inconclusive, the reverse is contradicted", () => {
  const narrow = [0.47, 0.5, 0.53], wide = [0.74, 0.77, 0.8];
  const holds = claim({ fig2: fig2(wide, narrow, wide) }, "fig2-bn-narrows");
  assert.equal(holds.verdict, "holds");
  assert.ok(holds.numbers["ci_lo_cnn4-plain_vs_cnn4-bn"] > 0);
  assert.match(
    holds.measured,
    /neither minus batch norm: 0\.27 \(95% CI 0\.2\d+ to 0\.3\d+, holds\)/,
  );
  assert.match(holds.measured, /it needs \d seeds per model \(this run has 3\)/);
  const none = claim(
    { fig2: fig2(narrow, narrow, narrow.map((w) => w + 0.01)) },
    "fig2-bn-narrows",
  );
  assert.equal(none.verdict, "inconclusive");
  assert.match(none.measured, /it would need \d+ seeds per model \(this run has 3\)/);
  const reverse = claim({ fig2: fig2(narrow, wide, narrow) }, "fig2-bn-narrows");
  assert.equal(reverse.verdict, "contradicted");
  assert.ok(reverse.numbers["ci_hi_cnn4-plain_vs_cnn4-bn"] < 0);
  // Dropout on top of batch norm: wider, as the paper says, in the first figure.
  assert.equal(claim({ fig2: fig2(wide, narrow, wide) }, "fig2-dropout-widens").verdict, "holds");
});

Deno.test("Figs. 3-4 claims over seeds need every difference to hold; one reversed contradicts", () => {
  const mlp = (bd: number[], bn: number[], plain: number[]): LandscapeFigure => ({
    ...fig2(bd, bn, plain),
    figure: "fig3",
  });
  const low = [0.5, 0.52, 0.54], mid = [0.8, 0.82, 0.84], high = [1.1, 1.12, 1.14];
  assert.equal(claim({ fig3: mlp(high, mid, low) }, "fig3-widest").verdict, "holds");
  assert.equal(claim({ fig3: mlp(high, high, low) }, "fig3-widest").verdict, "inconclusive");
  assert.equal(claim({ fig3: mlp(mid, high, low) }, "fig3-widest").verdict, "contradicted");
  const depth = (...ws: number[][]): LandscapeFigure => ({
    figure: "fig4",
    title: "Fig. 4",
    variants: ws.map((w, i) => model(`cnn${2 * i + 2}-plain`, `${2 * i + 2} conv layers`, w)),
    files: [],
  });
  assert.equal(claim({ fig4: depth(low, mid, high) }, "fig4-depth").verdict, "holds");
  const reversed = claim({ fig4: depth(high, mid, low) }, "fig4-depth");
  assert.equal(reversed.verdict, "contradicted");
  assert.equal(reversed.source, "fig4/widths.csv, fig4/width_means.csv");
  assert.match(
    reversed.measured,
    /^width 2 conv layers 1\.12 .*, 4 conv layers .*, 6 conv layers /,
  );
  // One seed per model: no verdict, and the claim says why.
  const single = claim({ fig4: depth([0.5], [1.5]) }, "fig4-depth");
  assert.equal(single.verdict, "inconclusive");
  assert.match(single.measured, /one seed: the noise between seeds is unmeasured/);
});

Deno.test("the report says in words what rays at the edge are, and times its steps in a table", () => {
  const run = {
    dir: "runs/x",
    preset: PRESETS.tiny,
    context: {},
    path: (f: string) => Promise.resolve(`runs/x/${f}`),
    log: [
      { name: "train-mlp-bn-seed0", seconds: 12.34, skipped: false },
      { name: "rate-mlp-bn", seconds: 0, skipped: true },
    ],
  } as unknown as ReportRun;
  const narrow = [0.47, 0.5, 0.53];
  const blocks = reportBlocks(run, { fig2: fig2(narrow, narrow, narrow) }, {
    command: "experiment all",
    adapter: "test",
    seconds: 13,
  });
  const widths = blocks.findIndex((b) =>
    b.kind === "table" && b.header.at(-1) === "rays at the edge"
  );
  assert.ok(widths > 0, "a widths table with its rays at the edge");
  assert.deepEqual(blocks[widths + 1], { kind: "paragraph", text: RAYS_AT_THE_EDGE });
  assert.match(RAYS_AT_THE_EDGE, /"Rays at the edge" counts the rays that reached that rise/);
  const steps = blocks.find((b) => b.kind === "table" && b.header.join() === "step,time");
  assert.deepEqual(steps && steps.kind === "table" && steps.rows, [
    ["train-mlp-bn-seed0", "12.3 s"],
    ["rate-mlp-bn", "skipped (done before)"],
    ["total", "13 s"],
  ]);
});
