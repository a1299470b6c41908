/**
 * Plain against antithetic Monte Carlo for Δk at equal points, on the paper's MLP (4 x 128,
 * batch norm, dropout 0.05) trained for 2 epochs on the Fashion-MNIST training images found
 * (the shipped 10,000-image subset unless the full set is installed): 256 independent points
 * against 128 pairs w* ± σε, n = 101 samples, at σ = 0.001, 0.01 and 0.1.
 *
 * The summary prints, for Δ_11 and Δ_101 and their landscape terms Δk − a_k², each estimator's
 * standard error, the points each needs for a standard error of 10% of the landscape term, and
 * the variance ratio (plain over antithetic) measured between the two runs and from the pairs
 * alone. The landscape term of a plain run at small σ is mostly noise: its cross term
 * 2aσ(c·ε), odd in ε, is what the pairs cancel.
 *
 * Run with `deno task bench` or `deno bench -A bench/antithetic_bench.ts`.
 */
import { loadFashionMnist } from "../src/files.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import type { DeltaCurve, Estimator } from "../src/landscape/delta.ts";
import { estimateDelta } from "../src/landscape/estimate.ts";
import { quietBatchNormUnits, quietUnitsText } from "../src/landscape/quiet_units.ts";
import { heavyTails } from "../src/landscape/tails.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { quietSink } from "../src/train/progress.ts";
import { train } from "../src/train/trainer.ts";
import { PAPER_MLP } from "./engine_workloads.ts";

const POINTS = 256, SAMPLES = 101, KS = [11, 101], SIGMAS = [0.001, 0.01, 0.1];
/** The standard error asked for, as a fraction of the landscape term. */
const TARGET = 0.1;

const gpu = await Gpu.create();
const { train: images } = await loadFashionMnist();
const model = new Sequential(gpu, PAPER_MLP);
await train(model, images, { epochs: 2, seed: 0, progress: quietSink });

const estimate = (sigma: number, estimator: Estimator, points = POINTS) =>
  estimateDelta(model, images, { sigma, points, samples: SAMPLES, seed: 1, estimator });

// The curves are measured once (their standard errors are the result); the benches below time
// one smaller estimate of each kind, which costs the same per point.
const curves = new Map<string, DeltaCurve>();
for (const sigma of SIGMAS) {
  for (const estimator of ["plain", "antithetic"] as Estimator[]) {
    curves.set(`${sigma} ${estimator}`, await estimate(sigma, estimator));
  }
}
const quiet = quietUnitsText(await quietBatchNormUnits(model));

const group = `Δk estimate, paper MLP, T = 32, n = ${SAMPLES}`;
for (const estimator of ["plain", "antithetic"] as Estimator[]) {
  Deno.bench({
    name: `${group}: ${estimator}`,
    group,
    baseline: estimator === "plain",
    n: 3,
    warmup: 1,
    async fn() {
      await estimate(0.01, estimator, 32);
    },
  });
}

const g = (x: number) => Number.isFinite(x) ? x.toPrecision(3) : String(x);

globalThis.addEventListener("unload", () => {
  console.log(
    `\nΔk standard errors at ${POINTS} points, plain vs ${POINTS / 2} antithetic pairs, ` +
      `paper MLP (2 epochs on ${images.labels.length} images) on ${gpu.adapter}; points needed ` +
      `for a standard error of ${TARGET * 100}% of the landscape term; ESS: effective sample ` +
      `size of the landscape term's draws:`,
  );
  for (const sigma of SIGMAS) {
    const plain = curves.get(`${sigma} plain`)!, pairs = curves.get(`${sigma} antithetic`)!;
    const tails = [plain, pairs].map((c) => heavyTails(c, { ks: KS, bootstrap: 0 }).at);
    for (const [i, k] of KS.entries()) {
      const j = k - 2;
      const landscape = pairs.terms!.landscape[j], target = TARGET * Math.abs(landscape);
      const need = (se: number) => Math.ceil(POINTS * (se / target) ** 2);
      const ratio = (plain.se[j] / pairs.se[j]) ** 2;
      console.log(
        `  σ = ${String(sigma).padEnd(5)} k = ${String(k).padEnd(3)} Δ ${g(pairs.delta[j])}, ` +
          `a² ${g(pairs.terms!.data[j])}. SE of Δ: plain ${g(plain.se[j])}, antithetic ` +
          `${g(pairs.se[j])}. Landscape term: plain ${g(plain.terms!.landscape[j])} ± ` +
          `${g(plain.terms!.landscapeSe[j])} (ESS ${g(tails[0][i].ess.value)} of ${POINTS}), ` +
          `antithetic ${g(landscape)} ± ${g(pairs.terms!.landscapeSe[j])} (ESS ` +
          `${g(tails[1][i].ess.value)} of ${POINTS / 2}). Points needed: plain ` +
          `${need(plain.terms!.landscapeSe[j])}, antithetic ${
            need(pairs.terms!.landscapeSe[j])
          }. ` +
          `Variance ratio ${g(ratio)}x between the runs, ${g(pairs.varianceRatio![j])}x from ` +
          `the pairs alone`,
      );
    }
  }
  if (quiet) console.log(`  ${quiet}`);
});
