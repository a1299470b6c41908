/**
 * Resuming a run folder never reuses a result of other inputs: a changed option recomputes
 * exactly the steps that depend on it, and a damaged file is named and rebuilt, not trusted.
 */
import assert from "node:assert/strict";
import { cli } from "./cli_run.ts";
import { gpuTest } from "./helpers.ts";

const TINY = ["--preset", "tiny"];

/** The steps a command's output says were recomputed (name → why) and skipped. */
function steps(out: string): { recomputed: Map<string, string>; skipped: Set<string> } {
  const recomputed = new Map<string, string>();
  const skipped = new Set<string>();
  for (const m of out.matchAll(/^([\w.-]+): recomputing, (.*)$/gm)) recomputed.set(m[1], m[2]);
  for (const m of out.matchAll(/^([\w.-]+): done earlier, skipped$/gm)) skipped.add(m[1]);
  return { recomputed, skipped };
}

/** Every step of `all` that reads the checkpoint of `model` (an id with its seed). */
function dependents(model: string): string[] {
  const byModel: Record<string, string[]> = {
    "mlp-bn-dropout-seed0": [
      "rate-mlp-bn-dropout-seed0",
      "rate-mlp-bn-dropout-seed0-fixed-order",
      "landscape-mlp-bn-dropout-seed0",
      "width-mlp-bn-dropout-seed0",
      "fig5-sigma-0.001",
      "fig5-sigma-0.03",
      "fig5-dim-1",
      "fig5-dim-4",
      "fig6-integrand",
    ],
    "mlp-bn-seed0": ["landscape-mlp-bn-seed0", "width-mlp-bn-seed0"],
    "mlp-plain-seed0": [
      "rate-mlp-plain-seed0",
      "rate-theory-k5",
      "rate-theory-k20",
      "landscape-mlp-plain-seed0",
      "width-mlp-plain-seed0",
    ],
  };
  // The other seeds' models are measured by their widths (the maps are the first seed's).
  return byModel[model] ?? [`width-${model}`];
}

gpuTest(
  "resume: more epochs retrain the MLPs and recompute every step that reads them, naming why; the CNN steps are kept",
  async () => {
    const out = await Deno.makeTempDir();
    try {
      assert.equal((await cli("all", ...TINY, "--out", out)).code, 0);
      const report = await Deno.readTextFile(`${out}/report.json`);
      const rate = await Deno.readTextFile(`${out}/results/rate.json`);
      const cnnWidths = await Deno.readTextFile(`${out}/fig2/widths.csv`);

      const more = await cli("all", ...TINY, "--epochs", "3", "--out", out);
      assert.equal(more.code, 0, more.out);
      const { recomputed, skipped } = steps(more.out);
      const mlps = ["mlp-bn-dropout", "mlp-bn", "mlp-plain"].flatMap((m) => [
        `${m}-seed0`,
        `${m}-seed1`,
      ]);
      for (const model of mlps) {
        assert.equal(recomputed.get(`train-${model}`), "options changed (epochs 2 → 3)");
        for (const step of dependents(model)) {
          assert.equal(
            recomputed.get(step),
            `checkpoint models/${model}.safetensors changed`,
            `${step} recomputes because ${model} was retrained`,
          );
        }
      }
      const cnn = new Set([...skipped].filter((s) => /cnn/.test(s)));
      assert.equal(cnn.size, 20, "train and width of 4 CNNs x 2 seeds, and 4 maps are kept");
      assert.ok(![...recomputed.keys()].some((s) => /cnn/.test(s)), "no CNN step recomputed");
      assert.equal(JSON.parse(await Deno.readTextFile(`${out}/run.json`)).preset.epochs, 3);
      assert.notEqual(await Deno.readTextFile(`${out}/results/rate.json`), rate);
      assert.notEqual(await Deno.readTextFile(`${out}/report.json`), report);
      assert.equal(await Deno.readTextFile(`${out}/fig2/widths.csv`), cnnWidths);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);

gpuTest(
  "resume: a damaged output, step record or checkpoint, other data or another matrix core is named and recomputed",
  async () => {
    const out = await Deno.makeTempDir();
    try {
      assert.equal((await cli("rate", ...TINY, "--out", out)).code, 0);
      const curve = await Deno.readFile(`${out}/curves/rate-mlp-plain-seed0.csv`);
      const rate = await Deno.readTextFile(`${out}/results/rate.json`);
      const figure = await Deno.readFile(`${out}/rate/delta.png`);
      const checkpoint = await Deno.readFile(`${out}/models/mlp-bn-dropout-seed0.safetensors`);

      // The case: a curve cut to 500 bytes was read back as a 4-row curve.
      await Deno.truncate(`${out}/curves/rate-mlp-plain-seed0.csv`, 500);
      const record = await Deno.readTextFile(`${out}/steps/rate-theory-k5.json`);
      await Deno.writeTextFile(`${out}/steps/rate-theory-k5.json`, record.slice(0, 100));
      const edited = JSON.parse(await Deno.readTextFile(`${out}/steps/rate-theory-k20.json`));
      edited.result.agree = !edited.result.agree;
      await Deno.writeTextFile(`${out}/steps/rate-theory-k20.json`, JSON.stringify(edited));
      const damaged = checkpoint.slice();
      damaged[damaged.length - 1] ^= 0xff;
      await Deno.writeFile(`${out}/models/mlp-bn-dropout-seed0.safetensors`, damaged);

      const again = await cli("rate", ...TINY, "--out", out);
      assert.equal(again.code, 0, again.out);
      const { recomputed, skipped } = steps(again.out);
      assert.match(
        recomputed.get("rate-mlp-plain-seed0") ?? "",
        /^its output curves\/rate-mlp-plain-seed0\.csv is damaged or was edited/,
      );
      assert.equal(
        recomputed.get("rate-theory-k5"),
        "steps/rate-theory-k5.json is damaged (not valid JSON)",
      );
      assert.match(
        recomputed.get("rate-theory-k20") ?? "",
        /rate-theory-k20\.json is damaged \(its checksum/,
      );
      assert.match(
        recomputed.get("train-mlp-bn-dropout-seed0") ?? "",
        /^its output models\/mlp-bn-dropout-seed0\.safetensors is damaged/,
      );
      // Retraining gives the same bytes, so the steps that read the checkpoint stand.
      assert.deepEqual(
        await Deno.readFile(`${out}/models/mlp-bn-dropout-seed0.safetensors`),
        checkpoint,
      );
      assert.ok(
        skipped.has("rate-mlp-bn-dropout-seed0") &&
          skipped.has("rate-mlp-bn-dropout-seed0-fixed-order"),
      );
      assert.deepEqual(await Deno.readFile(`${out}/curves/rate-mlp-plain-seed0.csv`), curve);
      assert.equal(await Deno.readTextFile(`${out}/results/rate.json`), rate);
      assert.deepEqual(await Deno.readFile(`${out}/rate/delta.png`), figure);

      // Other data (a different hold-out) and the other matrix-product core retrain the model.
      const other = await cli("fig6", ...TINY, "--validation", "100", "--out", out);
      assert.equal(other.code, 0, other.out);
      assert.match(
        steps(other.out).recomputed.get("train-mlp-bn-dropout-seed0") ?? "",
        /^data changed \(train 2200 → 2300, validation 200 → 100, sha256 \w{12}… → \w{12}…\)$/,
      );
      const kernels = JSON.parse(await Deno.readTextFile(`${out}/run.json`)).kernels;
      const otherCore = kernels === "register" ? "tiled" : "register";
      const core = await cli(
        "fig6",
        ...TINY,
        "--validation",
        "100",
        "--kernels",
        otherCore,
        "--out",
        out,
      );
      assert.equal(core.code, 0, core.out);
      assert.equal(
        steps(core.out).recomputed.get("train-mlp-bn-dropout-seed0"),
        `kernels changed (${kernels} → ${otherCore})`,
      );
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);

gpuTest(
  "resume: a report under other options than the results' leaves them out and names what differs",
  async () => {
    const out = await Deno.makeTempDir();
    try {
      assert.equal((await cli("fig6", ...TINY, "--out", out)).code, 0);
      const other = await cli("report", ...TINY, "--epochs", "3", "--out", out);
      assert.equal(other.code, 0, other.out);
      assert.equal(JSON.parse(await Deno.readTextFile(`${out}/run.json`)).preset.epochs, 3);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(`${out}/report.json`)).claims, []);
      const line =
        "fig6: computed with other options (--epochs 2 → 3); rerun fig6 with this run's options";
      assert.ok(other.out.includes(`left out of the report: ${line}`), other.out);
      assert.ok((await Deno.readTextFile(`${out}/report.md`)).includes(line));
      const same = await cli("report", ...TINY, "--out", out);
      const claims = JSON.parse(await Deno.readTextFile(`${out}/report.json`)).claims;
      assert.deepEqual(claims.map((c: { id: string }) => c.id), ["fig6-local"], same.out);
      // Without options, report uses those the run recorded.
      const recorded = await cli("report", "--out", out);
      assert.equal(recorded.code, 0, recorded.out);
      assert.deepEqual(
        JSON.parse(await Deno.readTextFile(`${out}/report.json`)).claims.map((c: { id: string }) =>
          c.id
        ),
        ["fig6-local"],
        recorded.out,
      );
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);

gpuTest(
  "resume: report in a folder from before replicates leaves its one-seed widths out, naming --seeds",
  async () => {
    const out = await Deno.makeTempDir({ prefix: "old run " });
    try {
      const { PRESETS } = await import("../src/experiments/presets.ts");
      const { seeds: _, ...old } = PRESETS.tiny; // a preset written before `seeds` existed
      const width = { radius: 1, se: 0.1, censored: 0, rays: 4 };
      const trained = {
        testAccuracy: 1,
        testLoss: 0.1,
        bestEpoch: 2,
        validationAccuracy: 1,
        seconds: 1,
      };
      const variants = ["mlp-bn-dropout", "mlp-bn", "mlp-plain"].map((id) => ({
        id,
        label: id,
        trained,
        centerLoss: 0.1,
        minLoss: 0.1,
        maxLoss: 2,
        width,
      }));
      await Deno.writeTextFile(`${out}/run.json`, JSON.stringify({ preset: old }));
      await Deno.mkdir(`${out}/results`);
      await Deno.writeTextFile(
        `${out}/results/fig3.json`,
        JSON.stringify({
          origin: { options: old, context: {} },
          result: { figure: "fig3", title: "Fig. 3", variants, files: [] },
        }),
      );
      const r = await cli("report", "--out", out);
      assert.equal(r.code, 0, r.out);
      assert.match(
        r.out,
        /left out of the report: fig3: computed with other options \(--seeds none → 2\)/,
      );
      assert.deepEqual(JSON.parse(await Deno.readTextFile(`${out}/report.json`)).claims, []);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);
