/**
 * The Δk experiments: Fig. 5 (Δk against k for several sigma, and for several subspace
 * dimensions), Fig. 6 (integrand maps for k = 1, 50, 100), and the rate of Theorem 1 (fitted
 * slope against 2, sample sufficiency, and the Hessian closed form against Monte Carlo).
 * @module
 */
import type { DataSplits } from "../data/dataset.ts";
import type { DeltaCurve } from "../landscape/delta.ts";
import { estimateDelta, type EstimateOptions, sampleOrder } from "../landscape/estimate.ts";
import { integrandMaps } from "../landscape/grid.ts";
import { fitRate, type RateFit } from "../landscape/rate.ts";
import { type Sufficiency, sufficiency } from "../landscape/sufficiency.ts";
import { theoryCheck } from "../landscape/theory.ts";
import type { Sequential } from "../nn/sequential.ts";
import { deltaFigure, heatmapFigure } from "../plot/figures.ts";
import { writeFigure } from "../plot/render.ts";
import { type Cell, csvNumber, parseCsv, writeCsv } from "../report/csv.ts";
import { checkpointFile, mlpVariants, trainedModel, type Variant } from "./models.ts";
import type { Run } from "./run.ts";

/** Summary of one Δk curve. */
export interface CurveSummary {
  label: string;
  /** Δ at k = 10, 100 and the last k (NaN where out of range). */
  at: { k: number; delta: number; se: number }[];
  /**
   * Level of the curve: mean of k² Δ_k over k >= 10 (C of Δ ≈ C / k²), with its standard error
   * from the per-k standard errors; compares curves without picking one noisy k.
   */
  level: { value: number; se: number };
  /** Fitted rate over the tail. */
  p: number;
  interval: [number, number] | null;
  kRange: [number, number];
}

const CURVE_HEADER = [
  ...["series", "k", "delta", "delta_se", "variance", "mean_squared"],
  ...["data_term", "landscape_term", "landscape_se"],
];

function curveRows(label: string, c: DeltaCurve): Cell[][] {
  const t = c.terms;
  return Array.from(c.k, (k, i) => [
    ...[label, k, c.delta[i], c.se[i], c.variance[i], c.meanSquared[i]],
    ...[t?.data[i], t?.landscape[i], t?.landscapeSe[i]],
  ]);
}

function summarize(label: string, c: DeltaCurve, fit: CurveRecord["fit"]): CurveSummary {
  const pick = (k: number) => {
    const i = k - 2;
    return i >= 0 && i < c.k.length
      ? { k, delta: c.delta[i], se: c.se[i] }
      : { k, delta: NaN, se: NaN };
  };
  const last = c.k[c.k.length - 1];
  let sum = 0, variance = 0, count = 0;
  for (let i = 0; i < c.k.length; i++) {
    if (c.k[i] < 10) continue;
    const k2 = c.k[i] * c.k[i];
    sum += c.delta[i] * k2;
    variance += (c.se[i] * k2) ** 2;
    count++;
  }
  return {
    label,
    at: [pick(10), pick(100), pick(last)],
    level: { value: count ? sum / count : NaN, se: count ? Math.sqrt(variance) / count : NaN },
    p: fit?.p ?? NaN,
    interval: fit?.interval ?? null,
    kRange: fit?.kRange ?? [NaN, NaN],
  };
}

function safeFit(c: DeltaCurve, seed: number): RateFit | null {
  try {
    return fitRate(c, { seed });
  } catch {
    return null;
  }
}

/** The model of Figs. 5 and 6: the MLP with batch norm and dropout. */
function mainVariant(run: Run, data: DataSplits): Variant {
  return mlpVariants(run.preset, data.train.shape)[0];
}

/** Fig. 5 results. */
export interface SweepResult {
  sigma: CurveSummary[];
  dim: CurveSummary[];
  files: string[];
}

/** What a curve step records besides its CSV: the fitted rate and, if asked, sufficiency. */
interface CurveRecord {
  fit: { p: number; c: number; interval: [number, number] | null; kRange: [number, number] } | null;
  sufficiency: Sufficiency | null;
}

/** Estimates one Δk curve of `variant`'s model (once per run), writes curves/<name>.csv, fits its rate. */
async function curveStep(
  run: Run,
  name: string,
  params: Record<string, unknown>,
  variant: Variant,
  model: Sequential,
  data: DataSplits,
  opts: EstimateOptions,
  threshold?: number,
): Promise<{ record: CurveRecord; curve: DeltaCurve }> {
  const spec = {
    params: { ...params, threshold },
    reads: [checkpointFile(variant)],
    writes: [`curves/${name}.csv`],
  };
  const record = await run.step<CurveRecord>(name, spec, async () => {
    const curve = await estimateDelta(model, data.train, opts);
    await writeCsv(await run.path(`curves/${name}.csv`), CURVE_HEADER, curveRows(name, curve));
    const fit = safeFit(curve, run.preset.seed);
    return {
      fit: fit ? { p: fit.p, c: fit.c, interval: fit.interval, kRange: fit.kRange } : null,
      sufficiency: threshold === undefined
        ? null
        : sufficiency(curve, threshold, { fit: fit ?? undefined, seed: run.preset.seed }),
    };
  });
  return { record, curve: await readCurve(run, name) };
}

async function readCurve(run: Run, name: string): Promise<DeltaCurve> {
  const rows = parseCsv(await Deno.readTextFile(`${run.dir}/curves/${name}.csv`)).slice(1);
  const col = (j: number) => Float64Array.from(rows, (r) => csvNumber(r[j]));
  return {
    k: col(1),
    delta: col(2),
    se: col(3),
    variance: col(4),
    meanSquared: col(5),
    points: 0,
    differences: new Float32Array(0),
  };
}

/** Fig. 5: Δk against k for each sigma (full mode) and each subspace dimension. */
export async function fig5(run: Run, data: DataSplits): Promise<SweepResult> {
  const p = run.preset;
  const v = mainVariant(run, data);
  const { model } = await trainedModel(run, v, data);
  // Averaged over data orders, like the rate (see rateExperiment): the sweep compares levels,
  // which single-order curves hide under the fluctuation of individual samples.
  const base = { model: v.id, points: p.points, samples: p.samples, seed: p.seed, reshuffle: true };
  const sigma: CurveSummary[] = [], dim: CurveSummary[] = [];
  const sigmaSeries = [], dimSeries = [];
  for (const s of p.sigmas) {
    const name = `fig5-sigma-${s}`;
    const { record, curve } = await curveStep(run, name, { ...base, sigma: s }, v, model, data, {
      sigma: s,
      points: p.points,
      samples: p.samples,
      seed: p.seed,
      reshuffleSeed: p.seed,
    });
    sigmaSeries.push({ label: `σ = ${s}`, k: curve.k, delta: curve.delta, se: curve.se });
    sigma.push(summarize(`σ = ${s}`, curve, record.fit));
  }
  for (const d of p.dims) {
    const name = `fig5-dim-${d}`;
    const { record, curve } = await curveStep(
      run,
      name,
      { ...base, sigma: p.dimSigma, dim: d },
      v,
      model,
      data,
      {
        sigma: p.dimSigma,
        points: p.points,
        samples: p.samples,
        seed: p.seed,
        mode: "subspace",
        dim: d,
        reshuffleSeed: p.seed,
      },
    );
    dimSeries.push({ label: `dim = ${d}`, k: curve.k, delta: curve.delta, se: curve.se });
    dim.push(summarize(`dim = ${d}`, curve, record.fit));
  }
  model.dispose();
  await writeFigure(
    await run.path("fig5/delta_sigma"),
    deltaFigure(
      `Fig. 5 (left): Δk for several σ (full space, averaged over data orders), ${v.label} MLP`,
      sigmaSeries,
    ),
  );
  await writeFigure(
    await run.path("fig5/delta_dim"),
    deltaFigure(
      `Fig. 5 (right): Δk for several subspace dimensions (σ = ${p.dimSigma} per coefficient)`,
      dimSeries,
    ),
  );
  const summaryRows = [...sigma.map((s) => ["sigma", s]), ...dim.map((s) => ["dim", s])].map(
    ([kind, s]) => {
      const c = s as CurveSummary;
      return [
        kind as string,
        c.label,
        c.at[0].delta,
        c.at[1].delta,
        c.at[1].se,
        c.level.value,
        c.level.se,
        c.p,
        c.interval?.[0],
        c.interval?.[1],
      ];
    },
  );
  await writeCsv(await run.path("fig5/summary.csv"), [
    "sweep",
    "series",
    "delta_k10",
    "delta_k100",
    "se_k100",
    "level",
    "level_se",
    "rate_p",
    "rate_lo",
    "rate_hi",
  ], summaryRows);
  return {
    sigma,
    dim,
    files: [
      "fig5/delta_sigma.png",
      "fig5/delta_dim.png",
      "fig5/summary.csv",
      ...p.sigmas.map((s) => `curves/fig5-sigma-${s}.csv`),
      ...p.dims.map((d) => `curves/fig5-dim-${d}.csv`),
    ],
  };
}

/** Fig. 6 results: integrand mass and its spread for each k. */
export interface IntegrandResult {
  maps: { k: number; mass: number; meanRadius: number; peak: number }[];
  files: string[];
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
    ["csv", "svg", "png"].map((ext) => `fig6/integrand_k${k}.${ext}`)
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
        }, { label: "integrand", levels: 8 }),
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
  main: CurveSummary & { sufficiency: Sufficiency | null };
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

/**
 * Theorem 1: the fitted rate of Δk. The theorem bounds an expectation; with one fixed data order
 * Δk also carries the fluctuations of single samples' losses (heavy-tailed for cross-entropy),
 * so the rate is fitted on Δk averaged over data orders (a new order for every point, as the
 * authors' code does) and reported for one fixed order (the paper's definition) beside it.
 * Sufficiency is read off the order-averaged curve of the main model.
 */
export async function rateExperiment(run: Run, data: DataSplits): Promise<RateResult> {
  const p = run.preset;
  const [main, , plainVariant] = mlpVariants(p, data.train.shape);
  const base = { points: p.points, samples: p.samples, seed: p.seed, sigma: p.sigma };
  const estimate = { sigma: p.sigma, points: p.points, samples: p.samples, seed: p.seed };
  const series = [], fits = [];
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
  const summaries: CurveSummary[] = [];
  let suff: Sufficiency | null = null;
  for (const c of curves) {
    const { model } = await trainedModel(run, c.variant, data);
    const { record, curve } = await curveStep(
      run,
      c.name,
      { ...base, model: c.variant.id, reshuffle: c.reshuffle },
      c.variant,
      model,
      data,
      { ...estimate, reshuffleSeed: c.reshuffle ? p.seed : undefined },
      c.name === curves[0].name ? p.threshold : undefined,
    );
    model.dispose();
    series.push({ label: c.label, k: curve.k, delta: curve.delta, se: curve.se });
    summaries.push(summarize(c.label, curve, record.fit));
    if (record.fit) {
      const f = record.fit;
      fits.push({
        label: `fit (${c.label}): p = ${f.p.toFixed(2)}`,
        p: f.p,
        c: f.c,
        kFrom: f.kRange[0],
        kTo: f.kRange[1],
      });
    }
    if (c.name === curves[0].name) suff = record.sufficiency;
  }
  await writeFigure(
    await run.path("rate/delta"),
    deltaFigure(`Δk against k (σ = ${p.sigma}), with fitted k^-p`, series, fits),
  );
  const { model: plain } = await trainedModel(run, plainVariant, data);
  const theory = [];
  for (const k of p.theoryKs) {
    const params = {
      model: plainVariant.id,
      k,
      sigma: p.theorySigma,
      probes: p.theoryProbes,
      points: p.theoryPoints,
      seed: p.seed,
    };
    const spec = { params, reads: [checkpointFile(plainVariant)] };
    const t = await run.step(`rate-theory-k${k}`, spec, async () => {
      const samples = sampleOrder(data.train, Math.max(...p.theoryKs) + 1, p.seed);
      const r = await theoryCheck(plain, { dataset: samples, loss: "cross-entropy" }, {
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
  plain.dispose();
  await writeCsv(
    await run.path("rate/theory.csv"),
    ["k", "sigma", "closed_form", "closed_form_se", "monte_carlo", "monte_carlo_se", "z", "agree"],
    theory.map((
      t,
    ) => [t.k, t.sigma, t.closedForm, t.closedFormSe, t.monteCarlo, t.monteCarloSe, t.z, t.agree]),
  );
  await writeCsv(
    await run.path("rate/rate.csv"),
    ["model", "p", "p_lo", "p_hi", "k_from", "k_to"],
    summaries.map((
      s,
    ) => [s.label, s.p, s.interval?.[0], s.interval?.[1], s.kRange[0], s.kRange[1]]),
  );
  return {
    main: { ...summaries[0], sufficiency: suff },
    fixedOrder: summaries[1],
    plain: summaries[2],
    theory,
    files: ["rate/delta.png", "rate/rate.csv", "rate/theory.csv"],
  };
}
