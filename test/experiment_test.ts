import assert from "node:assert/strict";
import { cli } from "./cli_run.ts";
import { csvNumber, parseCsv } from "../src/report/csv.ts";
import { gpuTest } from "./helpers.ts";
import { figureStrokes } from "./scene.ts";

async function csv(path: string): Promise<Record<string, string>[]> {
  const [header, ...rows] = parseCsv(await Deno.readTextFile(path));
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).size > 0;
  } catch {
    return false;
  }
}

gpuTest(
  "every experiment runs end to end on the tiny preset; outputs parse; report numbers equal the CSVs",
  async () => {
    const out = await Deno.makeTempDir();
    try {
      const first = await cli("all", "--preset", "tiny", "--out", out);
      assert.equal(first.code, 0, first.out);
      const run = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
      assert.equal(run.preset.name, "tiny");
      assert.ok(run.adapter.length > 0);
      for (
        const f of [
          "report.md",
          "report.html",
          "report.json",
          "report.blocks.json", // the results page draws these blocks
          "rate/delta.png",
          "rate/delta.vg.json", // and each figure's spec
          "landscapes/surface_mlp-bn-seed0.vg.json",
          "fig6/integrand_k1.vg.json",
          "rate/delta.svg",
          "fig5/delta_sigma.png",
          "fig5/delta_dim.png",
          "fig5/level_sigma.png",
          "fig5/sigma_exponent.csv",
          "fig6/integrand_k1.png",
          "fig2/widths.png",
          "fig4/widths.csv",
          "fig4/width_means.csv",
        ]
      ) {
        assert.ok(await exists(`${out}/${f}`), `${f} exists`);
      }
      // Every fitted line is drawn in the colour of the curve it fits (the spec the page draws).
      const fitted = [
        ["rate/delta", (fit: string) => /\((.*)\)$/.exec(fit)![1]], // "fit p = 2.05 (curve)"
        ["fig5/level_sigma", () => "landscape term"],
      ] as const;
      for (const [file, curveOf] of fitted) {
        const spec = JSON.parse(await Deno.readTextFile(`${out}/${file}.vg.json`));
        const { lines } = await figureStrokes(spec);
        const fits = [...lines.keys()].filter((l) => l.startsWith("fit "));
        if (file === "rate/delta") assert.equal(fits.length, 3, `${file}: one fit per curve`);
        for (const f of fits) {
          assert.equal(lines.get(f), lines.get(curveOf(f)), `${file}: ${f}`);
        }
      }
      for (
        const id of [
          "mlp-bn-dropout",
          "mlp-bn",
          "mlp-plain",
          "cnn2-bn-dropout",
          "cnn2-bn",
          "cnn2-plain",
          "cnn1-plain",
        ]
      ) {
        for (const seed of [0, 1]) { // the tiny preset trains 2 seeds of each model
          const file = `${out}/models/${id}-seed${seed}.safetensors`;
          assert.ok(await exists(file), `checkpoint ${id}, seed ${seed}`);
        }
      }
      for (const fig of ["fig2", "fig3"]) { // landscapes are files of their models
        for (
          const id of fig === "fig2"
            ? ["cnn2-bn-dropout", "cnn2-bn", "cnn2-plain"]
            : ["mlp-bn-dropout", "mlp-bn", "mlp-plain"]
        ) {
          // The maps are of the first seed's model.
          assert.ok(!(await exists(`${out}/landscapes/landscape_${id}-seed1.csv`)));
          const rows = await csv(`${out}/landscapes/landscape_${id}-seed0.csv`);
          assert.equal(rows.length, 25);
          assert.ok(rows.every((r) => Number.isFinite(csvNumber(r.loss))));
          assert.ok(
            (await Deno.readTextFile(`${out}/landscapes/landscape_${id}-seed0.svg`)).startsWith(
              "<svg",
            ),
          );
          const png = await Deno.readFile(`${out}/landscapes/landscape_${id}-seed0.png`);
          assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
        }
      }
      const report = JSON.parse(await Deno.readTextFile(`${out}/report.json`));
      const md = await Deno.readTextFile(`${out}/report.md`);
      const html = await Deno.readTextFile(`${out}/report.html`);
      const ids = report.claims.map((c: { id: string }) => c.id);
      assert.deepEqual(
        ids.sort(),
        [
          "fig2-bn-narrows",
          "fig2-dropout-widens",
          "fig3-widest",
          "fig4-depth",
          "fig5-dim",
          "fig5-sigma",
          "fig5-sigma-scaling",
          "fig6-local",
          "rate",
          "theory",
        ].sort(),
      );
      const claim = (id: string) => report.claims.find((c: { id: string }) => c.id === id);
      // Report numbers are the CSVs' numbers.
      const rate = await csv(`${out}/rate/rate.csv`);
      assert.equal(claim("rate").numbers.p, csvNumber(rate[0].p));
      // Every curve's rate four ways, the primary (binned least squares) first.
      assert.deepEqual(
        rate.slice(0, 4).map((r) => [r.fit, r.robust, r.primary]),
        [
          ["binned", "false", "true"],
          ["per-k", "false", "false"],
          ["binned", "true", "false"],
          ["per-k", "true", "false"],
        ],
      );
      assert.equal(rate.length, 12);
      assert.equal(claim("rate").numbers.p_per_k_robust, csvNumber(rate[3].p));
      // The curves are antithetic pairs (the preset's estimator), split into their terms.
      assert.equal(run.preset.estimator, "antithetic");
      const curve = await csv(`${out}/curves/fig5-sigma-0.001.csv`);
      for (const r of curve) {
        const [delta, data, land] = [r.delta, r.data_term, r.landscape_term].map(csvNumber);
        assert.ok(Math.abs(data + land - delta) <= 1e-12 * delta, "data + landscape = Δ");
        assert.ok(csvNumber(r.variance_ratio) > 0);
      }
      // Widths: a row per model and seed, and the mean over seeds with its CI.
      const widths2 = await csv(`${out}/fig2/widths.csv`);
      assert.deepEqual(
        widths2.map((r) => `${r.model} ${r.seed}`),
        ["cnn2-bn-dropout", "cnn2-bn", "cnn2-plain"].flatMap((m) => [`${m} 0`, `${m} 1`]),
      );
      const means2 = await csv(`${out}/fig2/width_means.csv`);
      const bn = means2.find((r) => r.model === "cnn2-bn")!;
      const bnSeeds = widths2.filter((r) => r.model === "cnn2-bn").map((r) => csvNumber(r.width));
      assert.ok(Math.abs(csvNumber(bn.width) - (bnSeeds[0] + bnSeeds[1]) / 2) < 1e-12);
      assert.ok(
        csvNumber(bn.ci_lo) < csvNumber(bn.width) && csvNumber(bn.width) < csvNumber(bn.ci_hi),
      );
      const narrows = claim("fig2-bn-narrows");
      assert.equal(narrows.numbers["width_cnn2-bn"], csvNumber(bn.width));
      const neither = csvNumber(means2.find((r) => r.model === "cnn2-plain")!.width);
      const effect = narrows.numbers["effect_cnn2-plain_vs_cnn2-bn"];
      assert.ok(Math.abs(effect - (neither - csvNumber(bn.width))) < 1e-12);
      assert.ok(narrows.numbers["ci_lo_cnn2-plain_vs_cnn2-bn"] < effect);
      assert.ok(narrows.numbers["detectable_cnn2-plain_vs_cnn2-bn"] > 0);
      assert.match(narrows.measured, /95% CI .*; smallest difference detectable at 80% power /);
      for (const id of ["fig2-bn-narrows", "fig2-dropout-widens", "fig3-widest", "fig4-depth"]) {
        assert.ok(["holds", "contradicted", "inconclusive"].includes(claim(id).verdict), id);
      }
      const widths4 = await csv(`${out}/fig4/width_means.csv`);
      assert.equal(claim("fig4-depth").numbers["width_cnn1-plain"], csvNumber(widths4[0].width));
      assert.match(
        md,
        /\| batch norm, no dropout \| mean of 2 \| +\| +\| \*\*[\d.]+\*\* \(95% CI /,
      );
      const summary5 = await csv(`${out}/fig5/summary.csv`);
      assert.equal(claim("fig5-sigma").numbers.level_low, csvNumber(summary5[0].level));
      assert.equal(
        claim("fig5-sigma").numbers.landscape_low,
        csvNumber(summary5[0].landscape_level),
      );
      const exponent = await csv(`${out}/fig5/sigma_exponent.csv`);
      assert.equal(
        claim("fig5-sigma-scaling").numbers.exponent_small,
        csvNumber(exponent[1].exponent),
      );
      assert.match(md, /## Monte-Carlo diagnostics/);
      const theory = await csv(`${out}/rate/theory.csv`);
      assert.equal(claim("theory").numbers.closed_k5, csvNumber(theory[0].closed_form));
      const fig6 = await csv(`${out}/fig6/summary.csv`);
      assert.equal(claim("fig6-local").numbers.mass_k1, csvNumber(fig6[0].mass));
      // Every verdict is stated in both report formats.
      for (const c of report.claims) {
        assert.ok(md.includes(c.measured.split(";")[0].slice(0, 40)), `report.md has ${c.id}`);
        assert.ok(md.includes(`**${c.verdict}**`));
        assert.match(html, new RegExp(`<strong class="verdict [a-z]+">${c.verdict}</strong>`));
      }
      // A re-run skips every finished step and changes nothing.
      const before = await Deno.readTextFile(`${out}/fig3/widths.csv`);
      const second = await cli("all", "--preset", "tiny", "--out", out);
      assert.equal(second.code, 0);
      assert.ok(!/finished in/.test(second.out), "nothing recomputed");
      assert.match(second.out, /train-mlp-plain-seed1: done earlier, skipped/);
      assert.equal(await Deno.readTextFile(`${out}/fig3/widths.csv`), before);
      // Changing a size reruns only the steps it affects.
      const third = await cli("fig6", "--preset", "tiny", "--out", out, "--integrand-grid", "3");
      assert.match(third.out, /fig6-integrand: finished/);
      // The estimator is part of every Δk curve step's key.
      const plain = await cli("fig5", "--preset", "tiny", "--out", out, "--estimator", "plain");
      assert.equal(plain.code, 0, plain.out);
      assert.match(plain.out, /fig5-sigma-0\.001: recomputing, options changed \(estimator/);
      assert.match(await Deno.readTextFile(`${out}/report.md`), /16 plain Monte-Carlo points/);
      assert.match(third.out, /train-mlp-bn-dropout-seed0: done earlier, skipped/);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);

Deno.test("bad experiment arguments exit non-zero with a message naming the argument", async () => {
  const cases: [string[], RegExp][] = [
    [["figure9"], /unknown command "figure9"/],
    [["fig5", "--sigma", "0"], /--sigma must be > 0, got 0/],
    [["fig5", "--sigma=-1"], /--sigma must be > 0, got -1/],
    [["fig5", "--sigmas", "0.1,-2"], /--sigmas takes numbers > 0, got "-2"/],
    [["fig2", "--grid", "0"], /--grid must be an integer in \[1, ∞\], got 0/],
    [["fig2", "--grid", "2.5"], /--grid must be an integer/],
    [["all", "--data-dir", "/no/such/dir"], /--data-dir "\/no\/such\/dir" does not exist/],
    [["all", "--data", "cifar10"], /--data cifar10 needs --data-dir/],
    [["all", "--preset", "huge"], /--preset must be one of default, paper, tiny, got "huge"/],
    [["all", "--points", "1"], /--points must be an integer in \[2, ∞\], got 1/],
    [["all", "--bogus"], /Unknown option '--bogus'/],
  ];
  for (const [args, pattern] of cases) {
    const r = await cli(...args);
    assert.notEqual(r.code, 0, `${args.join(" ")} should fail`);
    assert.match(r.out, pattern, args.join(" "));
  }
  const help = await cli("fig5", "--help");
  assert.equal(help.code, 0);
  assert.match(help.out, /--sigmas VALUE/);
});
