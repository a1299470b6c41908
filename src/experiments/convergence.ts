/**
 * The Δk experiments: Fig. 5 (Δk against k for several sigma, and for several subspace
 * dimensions), Fig. 6 (integrand maps for k = 1, 50, 100), and the rate of Theorem 1 (fitted
 * slope against 2, sample sufficiency, and the Hessian closed form against Monte Carlo).
 * @module
 */
import type { DataSplits } from "../data/dataset.ts";
import { type EstimateOptions, sampleOrder } from "../landscape/estimate.ts";
import { integrandMaps } from "../landscape/grid.ts";
import { type SigmaLevel, type SigmaScaling, sigmaScaling } from "../landscape/sigma_scaling.ts";
import { theoryCheck } from "../landscape/theory.ts";
import { type CurveSeries, deltaFigure, type FitLine, heatmapFigure } from "../plot/figures.ts";
import { FIGURE_SPEC, writeFigure } from "../plot/render.ts";
import { type Cell, writeCsv } from "../report/csv.ts";
import { curveStep, type CurveSummary, termSeries } from "./curves.ts";
import { checkpointFile, mlpVariants, trainedModel, type Variant } from "./models.ts";
import type { Run } from "./run.ts";

export type { CurveSummary } from "./curves.ts";

/** The model of Figs. 5 and 6: the MLP with batch norm and dropout. */
function mainVariant(run: Run, data: DataSplits): Variant {
  return mlpVariants(run.preset, data.train.shape)[0];
}

/** Fig. 5 results. */
export interface SweepResult {
  sigma: CurveSummary[];
  dim: CurveSummary[];
  /** The landscape term's level against σ, and its fitted exponent. */
  scaling: SigmaScaling & { levels: SigmaLevel[] };
  files: string[];
}

/** Fig. 5's two panels, legends included, are this size, so they show side by side alike. */
const FIG5_PANEL = { width: 560, height: 600 };

const LEVEL_TITLE = "level: mean of k² × term over k ≥ 10";

function summaryRow(kind: string, c: CurveSummary): Cell[] {
  const l = c.level;
  return [
    ...[kind, c.label, c.at[0].delta, c.at[1].delta, c.at[1].se, l.delta.value, l.delta.se],
    ...[l.data.value, l.landscape.value, l.landscape.se, l.varianceRatio],
    ...[c.p, c.interval?.[0], c.interval?.[1]],
  ];
}

/**
 * Fig. 5: Δk against k for each σ (full mode) and each subspace dimension, each split into the
 * data term a_k² (which depends on neither σ nor the landscape) and the landscape term; the
 * landscape term's level against σ with its fitted exponent (second order: σ²).
 */
export async function fig5(run: Run, data: DataSplits): Promise<SweepResult> {
  const p = run.preset;
  const v = mainVariant(run, data);
  const sweep = await sweepCurves(run, data, v);
  const levels = sweep.sigma.map((c, i) => ({
    sigma: p.sigmas[i],
    value: c.level.landscape.value,
    se: c.level.landscape.se,
  }));
  const scaling = sigmaScaling(levels);
  await writeFig5(run, v, sweep, scaling);
  return {
    sigma: sweep.sigma,
    dim: sweep.dim,
    scaling: { ...scaling, levels },
    files: [
      "fig5/delta_sigma.png",
      "fig5/delta_dim.png",
      "fig5/level_sigma.png",
      "fig5/summary.csv",
      "fig5/sigma_exponent.csv",
      ...p.sigmas.map((s) => `curves/fig5-sigma-${s}.csv`),
      ...p.dims.map((d) => `curves/fig5-dim-${d}.csv`),
    ],
  };
}

/** Fig. 5's curves: one per σ (full space) and one per subspace dimension. */
interface Sweep {
  sigma: CurveSummary[];
  dim: CurveSummary[];
  sigmaSeries: CurveSeries[];
  dimSeries: CurveSeries[];
}

async function sweepCurves(run: Run, data: DataSplits, v: Variant): Promise<Sweep> {
  const p = run.preset;
  const { model } = await trainedModel(run, v, data);
  // Averaged over data orders, like the rate (see rateExperiment): the sweep compares levels,
  // which single-order curves hide under the fluctuation of individual samples.
  const base = { model: v.id, points: p.points, samples: p.samples, seed: p.seed, reshuffle: true };
  const estimate: EstimateOptions = {
    sigma: 0,
    points: p.points,
    samples: p.samples,
    seed: p.seed,
    reshuffleSeed: p.seed,
    estimator: p.estimator,
  };
  const sweep: Sweep = { sigma: [], dim: [], sigmaSeries: [], dimSeries: [] };
  for (const s of p.sigmas) {
    const label = `σ = ${s}`;
    const { summary, curve } = await curveStep(
      run,
      `fig5-sigma-${s}`,
      label,
      { ...base, sigma: s },
      v,
      model,
      data,
      { ...estimate, sigma: s },
    );
    // Every σ shares the data orders, so one data term stands for all.
    sweep.sigmaSeries.push(...termSeries(label, curve, sweep.sigmaSeries.length === 0));
    sweep.sigma.push(summary);
  }
  for (const d of p.dims) {
    const label = `dim = ${d}`;
    const { summary, curve } = await curveStep(
      run,
      `fig5-dim-${d}`,
      label,
      { ...base, sigma: p.dimSigma, dim: d },
      v,
      model,
      data,
      { ...estimate, sigma: p.dimSigma, mode: "subspace", dim: d },
    );
    sweep.dimSeries.push(...termSeries(label, curve, sweep.dimSeries.length === 0));
    sweep.dim.push(summary);
  }
  model.dispose();
  return sweep;
}

/** Fig. 5's two panels, the level-against-σ figure, the summary and the σ exponent. */
async function writeFig5(run: Run, v: Variant, sweep: Sweep, scaling: SigmaScaling) {
  const p = run.preset;
  await writeFigure(
    await run.path("fig5/delta_sigma"),
    deltaFigure(
      `Fig. 5 (left): Δk and its terms for several σ (full space, averaged over data orders), ` +
        `${v.label} MLP`,
      sweep.sigmaSeries,
      [],
      { size: FIG5_PANEL },
    ),
  );
  await writeFigure(
    await run.path("fig5/delta_dim"),
    deltaFigure(
      `Fig. 5 (right): Δk and its terms for several subspace dimensions (σ = ${p.dimSigma} per ` +
        "coefficient)",
      sweep.dimSeries,
      [],
      { size: FIG5_PANEL },
    ),
  );
  await writeFigure(
    await run.path("fig5/level_sigma"),
    levelFigure(sweep.sigma, p.sigmas, scaling),
  );
  await writeCsv(await run.path("fig5/summary.csv"), [
    ...["sweep", "series", "delta_k10", "delta_k100", "se_k100", "level", "level_se"],
    ...["data_level", "landscape_level", "landscape_level_se", "variance_ratio"],
    ...["rate_p", "rate_lo", "rate_hi"],
  ], [
    ...sweep.sigma.map((c) => summaryRow("sigma", c)),
    ...sweep.dim.map((c) => summaryRow("dim", c)),
  ]);
  await writeCsv(
    await run.path("fig5/sigma_exponent.csv"),
    ["fit", "exponent", "exponent_se", "exponent_lo", "exponent_hi", "sigmas"],
    ([["all resolved σ", scaling.all], ["two smallest resolved σ", scaling.small]] as const).map((
      [name, f],
    ) => [name, f?.exponent, f?.se, f?.interval[0], f?.interval[1], f?.sigmas.join(" ")]),
  );
}

/** The levels of Δk and of its terms against σ, log-log, with the landscape term's fitted σ^q. */
function levelFigure(sigma: CurveSummary[], sigmas: number[], scaling: SigmaScaling) {
  const series: CurveSeries[] = [
    ["Δk", (c: CurveSummary) => c.level.delta],
    ["landscape term", (c: CurveSummary) => c.level.landscape],
    ["data term a_k²", (c: CurveSummary) => c.level.data],
  ].map(([label, pick]) => {
    const values = sigma.map(pick as (c: CurveSummary) => { value: number; se: number });
    return {
      label: label as string,
      k: sigmas,
      delta: values.map((x) => x.value),
      se: values.map((x) => x.se || 0),
    };
  });
  const fits: FitLine[] = [];
  for (const [name, f] of [["all σ", scaling.all], ["two smallest σ", scaling.small]] as const) {
    if (!f) continue;
    fits.push({
      label: `fit q = ${f.exponent.toFixed(2)} (${name})`,
      curve: "landscape term",
      p: -f.exponent,
      c: f.c,
      kFrom: f.sigmas[0],
      kTo: f.sigmas[f.sigmas.length - 1],
    });
  }
  return deltaFigure(
    "Fig. 5: the level of Δk and of its terms against σ (second order: landscape term ∝ σ²)",
    series,
    fits,
    { xTitle: "σ", yTitle: LEVEL_TITLE },
  );
}

/** Fig. 6 results: integrand mass and its spread for each k. */
export interface IntegrandResult {
  maps: { k: number; mass: number; meanRadius: number; peak: number }[];
  files: string[];
}

/**
 * One log10 colour range for all of Fig. 6's maps, so the integrand's decay with k shows as
 * colour (each map on its own range would look alike). Zeros are left out of the range.
 */
export function sharedLogDomain(maps: ArrayLike<number>[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const values of maps) {
    for (const v of Array.from(values)) {
      if (!(v > 0) || !Number.isFinite(v)) continue;
      lo = Math.min(lo, Math.log10(v));
      hi = Math.max(hi, Math.log10(v));
    }
  }
  return lo <= hi ? [lo, hi] : [-12, 0];
}

/** Fig. 6: integrand maps (L_{k+1} - L_k)^2 p(a, b) for the preset's k values. */
export async function fig6(run: Run, data: DataSplits): Promise<IntegrandResult> {
  const p = run.preset;
  const v = mainVariant(run, data);
  const { model } = await trainedModel(run, v, data);
  const params = {
    model: v.id,
    grid: p.integrandGrid,
    ks: p.integrandKs,
    sigma: p.integrandSigma,
    range: p.integrandRange,
    seed: p.seed,
  };
  const writes = p.integrandKs.flatMap((k) =>
    ["csv", "svg", "png", FIGURE_SPEC].map((ext) => `fig6/integrand_k${k}.${ext}`)
  );
  const spec = { params, reads: [checkpointFile(v)], writes };
  const maps = await run.step("fig6-integrand", spec, async () => {
    const samples = sampleOrder(data.train, Math.max(...p.integrandKs) + 1, p.seed);
    const result = await integrandMaps(
      model,
      { dataset: samples, loss: "cross-entropy" },
      p.integrandKs,
      p.integrandSigma,
      {
        seed: p.seed + 41,
        resolution: p.integrandGrid,
        range: [-p.integrandRange, p.integrandRange],
      },
    );
    const domain = sharedLogDomain(result.map((r) => r.map.values));
    const out = [];
    for (const { k, map } of result) {
      const rows: Cell[][] = [];
      let mass = 0, moment = 0, peak = 0;
      const cell = (map.axis[1] - map.axis[0]) ** 2;
      for (let i = 0; i < map.resolution; i++) {
        for (let j = 0; j < map.resolution; j++) {
          const value = map.values[i * map.resolution + j];
          rows.push([map.axis[i], map.axis[j], value]);
          mass += value * cell;
          moment += value * cell * Math.hypot(map.axis[i], map.axis[j]);
          peak = Math.max(peak, value);
        }
      }
      await writeCsv(await run.path(`fig6/integrand_k${k}.csv`), ["a", "b", "integrand"], rows);
      await writeFigure(
        await run.path(`fig6/integrand_k${k}`),
        heatmapFigure(`Fig. 6: (L_{k+1} - L_k)² p(a, b), k = ${k}`, {
          axis: map.axis,
          values: map.values,
        }, { label: "integrand", levels: 8, domain }),
      );
      out.push({ k, mass, meanRadius: mass > 0 ? moment / mass : NaN, peak });
    }
    return out;
  });
  model.dispose();
  await writeCsv(
    await run.path("fig6/summary.csv"),
    ["k", "mass", "mean_radius", "peak"],
    maps.map((m) => [m.k, m.mass, m.meanRadius, m.peak]),
  );
  return {
    maps,
    files: [...p.integrandKs.map((k) => `fig6/integrand_k${k}.png`), "fig6/summary.csv"],
  };
}

/** Rate experiment results. */
export interface RateResult {
  main: CurveSummary;
  /** The main model with one fixed data order (the paper's definition). */
  fixedOrder: CurveSummary;
  plain: CurveSummary;
  theory: {
    k: number;
    sigma: number;
    closedForm: number;
    closedFormSe: number;
    monteCarlo: number;
    monteCarloSe: number;
    agree: boolean;
    z: number;
    text: string;
  }[];
  files: string[];
}

/** The rate's Δk curves with their summaries, figure series and fitted lines. */
interface RateCurves {
  summaries: CurveSummary[];
  series: CurveSeries[];
  fits: FitLine[];
}

/**
 * The rate's three curves: the main model averaged over data orders (its sufficiency k* too),
 * the main model in one fixed order (the paper's definition), and the plain model.
 */
async function rateCurves(
  run: Run,
  data: DataSplits,
  main: Variant,
  plainVariant: Variant,
): Promise<RateCurves> {
  const p = run.preset;
  const base = { points: p.points, samples: p.samples, seed: p.seed, sigma: p.sigma };
  const estimate = {
    sigma: p.sigma,
    points: p.points,
    samples: p.samples,
    seed: p.seed,
    estimator: p.estimator,
  };
  const out: RateCurves = { summaries: [], series: [], fits: [] };
  const curves: { name: string; variant: Variant; reshuffle: boolean; label: string }[] = [
    {
      name: `rate-${main.id}`,
      variant: main,
      reshuffle: true,
      label: `${main.label}, averaged over data orders`,
    },
    {
      name: `rate-${main.id}-fixed-order`,
      variant: main,
      reshuffle: false,
      label: `${main.label}, one fixed order`,
    },
    {
      name: `rate-${plainVariant.id}`,
      variant: plainVariant,
      reshuffle: true,
      label: `${plainVariant.label}, averaged over data orders`,
    },
  ];
  for (const c of curves) {
    const { model } = await trainedModel(run, c.variant, data);
    const { summary, curve } = await curveStep(
      run,
      c.name,
      c.label,
      { ...base, model: c.variant.id, reshuffle: c.reshuffle },
      c.variant,
      model,
      data,
      { ...estimate, reshuffleSeed: c.reshuffle ? p.seed : undefined },
      c.name === curves[0].name ? p.threshold : undefined,
    );
    model.dispose();
    // Δk and its landscape term for every curve; the data term of the main curve only.
    out.series.push(...termSeries(c.label, curve, c.name === curves[0].name));
    out.summaries.push(summary);
    if (summary.fit) {
      const f = summary.fit;
      out.fits.push({
        label: `fit p = ${f.p.toFixed(2)} (${c.label})`,
        curve: c.label,
        p: f.p,
        c: f.c,
        kFrom: f.kRange[0],
        kTo: f.kRange[1],
      });
    }
  }
  return out;
}

/** The Hessian closed form against Monte Carlo at each of the preset's theory k. */
async function theoryChecks(
  run: Run,
  data: DataSplits,
  variant: Variant,
): Promise<RateResult["theory"]> {
  const p = run.preset;
  const { model } = await trainedModel(run, variant, data);
  const theory: RateResult["theory"] = [];
  for (const k of p.theoryKs) {
    const params = {
      model: variant.id,
      k,
      sigma: p.theorySigma,
      probes: p.theoryProbes,
      points: p.theoryPoints,
      seed: p.seed,
    };
    const spec = { params, reads: [checkpointFile(variant)] };
    const t = await run.step(`rate-theory-k${k}`, spec, async () => {
      const samples = sampleOrder(data.train, Math.max(...p.theoryKs) + 1, p.seed);
      const r = await theoryCheck(model, { dataset: samples, loss: "cross-entropy" }, {
        k,
        sigma: p.theorySigma,
        probes: p.theoryProbes,
        points: p.theoryPoints,
        seed: p.seed,
      });
      return {
        k,
        sigma: p.theorySigma,
        closedForm: r.closedForm.value,
        closedFormSe: r.closedForm.se,
        monteCarlo: r.monteCarlo.value,
        monteCarloSe: r.monteCarlo.se,
        agree: r.verdict.agree,
        z: r.verdict.z,
        text: r.verdict.text,
      };
    });
    theory.push(t);
  }
  model.dispose();
  return theory;
}

/** The rate's figure, its theory table and every curve's four fits. */
async function writeRate(
  run: Run,
  curves: RateCurves,
  theory: RateResult["theory"],
): Promise<void> {
  await writeFigure(
    await run.path("rate/delta"),
    deltaFigure(
      `Δk against k (σ = ${run.preset.sigma}), with fitted k^-p`,
      curves.series,
      curves.fits,
    ),
  );
  await writeCsv(
    await run.path("rate/theory.csv"),
    ["k", "sigma", "closed_form", "closed_form_se", "monte_carlo", "monte_carlo_se", "z", "agree"],
    theory.map((
      t,
    ) => [t.k, t.sigma, t.closedForm, t.closedFormSe, t.monteCarlo, t.monteCarloSe, t.z, t.agree]),
  );
  // Every curve's rate four ways; the first row of each curve is the primary (binned) fit.
  await writeCsv(
    await run.path("rate/rate.csv"),
    ["model", "fit", "robust", "p", "p_lo", "p_hi", "k_from", "k_to", "primary"],
    curves.summaries.flatMap((s) =>
      s.fits.map((f, i) => [
        ...[s.label, f.method, f.robust, f.p, f.interval?.[0], f.interval?.[1]],
        ...[f.kRange[0], f.kRange[1], i === 0],
      ])
    ),
  );
}

/**
 * Theorem 1: the fitted rate of Δk. The theorem bounds an expectation; with one fixed data order
 * Δk also carries the fluctuations of single samples' losses (heavy-tailed for cross-entropy),
 * so the rate is fitted on Δk averaged over data orders (a new order for every point, or pair,
 * as the authors' code does) and reported for one fixed order (the paper's definition) beside
 * it. Each curve's rate is fitted four ways (binned and per k, with and without robust
 * weights). Sufficiency is read off the order-averaged curve of the main model, with the term
 * that dominates at k*.
 */
export async function rateExperiment(run: Run, data: DataSplits): Promise<RateResult> {
  const [main, , plainVariant] = mlpVariants(run.preset, data.train.shape);
  const curves = await rateCurves(run, data, main, plainVariant);
  const theory = await theoryChecks(run, data, plainVariant);
  await writeRate(run, curves, theory);
  const [mainCurve, fixedOrder, plain] = curves.summaries;
  return {
    main: mainCurve,
    fixedOrder,
    plain,
    theory,
    files: ["rate/delta.png", "rate/rate.csv", "rate/theory.csv"],
  };
}
