/**
 * One Δk curve of an experiment (the rate, Fig. 5): estimated once per run as a resumable step
 * (curves/<name>.csv), with what the report needs of it: its level and the level of each of its
 * terms, the variance ratio its estimator achieved against plain points, its rate fitted four
 * ways, heavy tails, the model's near-zero-variance batch-norm units and, if asked, sample
 * sufficiency with the term that dominates at k*.
 * @module
 */
import type { DataSplits } from "../data/dataset.ts";
import { type DeltaCurve, drawRows, type Estimator } from "../landscape/delta.ts";
import { estimateDelta, type EstimateOptions } from "../landscape/estimate.ts";
import { curveLevel, dominantTerm, type TermMeans } from "../landscape/level.ts";
import { quietBatchNormUnits, quietUnitsText } from "../landscape/quiet_units.ts";
import { rateSensitivity } from "../landscape/rate.ts";
import { type Sufficiency, sufficiency } from "../landscape/sufficiency.ts";
import { drawTail, heavyTails } from "../landscape/tails.ts";
import type { Sequential } from "../nn/sequential.ts";
import type { CurveSeries } from "../plot/figures.ts";
import { type Cell, csvNumber, parseCsv, writeCsv } from "../report/csv.ts";
import { checkpointFile, type Variant } from "./models.ts";
import type { Run } from "./run.ts";

/** The rate fitted one way (see `rateSensitivity`). */
export interface FitRecord {
  method: "binned" | "per-k";
  robust: boolean;
  p: number;
  c: number;
  interval: [number, number] | null;
  kRange: [number, number];
  /** Why this way could not fit, or null. */
  error: string | null;
}

/**
 * Heavy tails of a curve: of the draws' contributions to its level (what the claims compare),
 * with a warning when a few dominate, and of single k where they are worst (for reference: a
 * single k of a curve with a data order per draw often hangs on one sample's loss).
 */
export interface TailRecord {
  /** Largest draw's share of the level's sum, and its bootstrap standard error. */
  share: number;
  shareSe: number;
  /** Effective sample size of the draws at the level, and its bootstrap standard error. */
  ess: number;
  essSe: number;
  draws: number;
  /** The k whose landscape term has the smallest effective sample size, and its values. */
  worstK: number;
  worstShare: number;
  worstEss: number;
  /** When a few draws dominate the level, else null. */
  warning: string | null;
}

/** What a curve step records besides its CSV. */
export interface CurveRecord {
  estimator: Estimator;
  /** The primary (binned least-squares) rate fit, or null when the curve cannot be fitted. */
  fit: FitRecord | null;
  /** The rate fitted four ways: binned and per k, without and with robust weights. */
  fits: FitRecord[];
  /** Largest minus smallest p of the four. */
  spread: number;
  /** Level over k >= 10 of Δ (k² Δ_k) and of its terms, variance ratio against plain. */
  level: TermMeans;
  tails: TailRecord;
  /** The near-zero-variance batch-norm units of the model, or null when it has none. */
  quietUnits: string | null;
  sufficiency: Sufficiency | null;
  /** The terms around k* (or the largest k measured when k* lies beyond it). */
  dominant: (TermMeans & { k: number; term: string; dataShare: number }) | null;
}

/** Summary of one Δk curve, as the results and the report carry it. */
export interface CurveSummary extends CurveRecord {
  label: string;
  /** Δ at k = 10, 100 and the last k (NaN where out of range). */
  at: { k: number; delta: number; se: number }[];
  /** Fitted rate (primary fit) over the tail. */
  p: number;
  interval: [number, number] | null;
  kRange: [number, number];
}

/** The columns of curves/<name>.csv. */
const CURVE_HEADER = [
  ...["series", "k", "delta", "delta_se", "variance", "mean_squared"],
  ...["data_term", "landscape_term", "landscape_se", "variance_ratio"],
];

function curveRows(label: string, c: DeltaCurve): Cell[][] {
  const t = c.terms;
  return Array.from(c.k, (k, i) => [
    ...[label, k, c.delta[i], c.se[i], c.variance[i], c.meanSquared[i]],
    ...[t?.data[i], t?.landscape[i], t?.landscapeSe[i], c.varianceRatio?.[i]],
  ]);
}

async function curveRecord(
  curve: DeltaCurve,
  model: Sequential,
  seed: number,
  threshold?: number,
): Promise<CurveRecord> {
  const { variants, spread } = rateSensitivity(curve, { seed });
  const fits = variants.map((v): FitRecord => ({
    method: v.method,
    robust: v.robust,
    p: v.fit?.p ?? NaN,
    c: v.fit?.c ?? NaN,
    interval: v.fit?.interval ?? null,
    kRange: v.fit?.kRange ?? [NaN, NaN],
    error: v.error,
  }));
  const primary = variants[0].fit;
  const suff = threshold === undefined
    ? null
    : sufficiency(curve, threshold, { fit: primary ?? undefined, seed });
  const last = curve.k[curve.k.length - 1];
  const perDraw = new Float64Array(curve.points / drawRows(curve.estimator));
  const level = curveLevel(curve, 10, perDraw);
  const tail = drawTail(perDraw, { seed }), worst = heavyTails(curve, { seed }).worst;
  const unit = curve.estimator === "antithetic" ? "pairs" : "points";
  return {
    estimator: curve.estimator ?? "plain",
    fit: primary ? fits[0] : null,
    fits,
    spread,
    level,
    tails: {
      share: tail.share.value,
      shareSe: tail.share.se,
      ess: tail.ess.value,
      essSe: tail.ess.se,
      draws: tail.draws,
      worstK: worst.k,
      worstShare: worst.share.value,
      worstEss: worst.ess.value,
      warning: tail.dominated
        ? `a few draws dominate the level of the landscape term: the largest of ${tail.draws} ` +
          `${unit} carries ${(100 * tail.share.value).toFixed(0)}% of its sum (effective ` +
          `sample size ${tail.ess.value.toFixed(1)}), so its standard error is unreliable; more ` +
          "points, or units that amplify the perturbation (see the batch-norm diagnostic), " +
          "are the remedy"
        : null,
    },
    quietUnits: quietUnitsText(await quietBatchNormUnits(model)),
    sufficiency: suff,
    dominant: suff
      ? dominantTerm(curve, suff.status === "reached" ? suff.k : Math.min(suff.k ?? last, last))
      : null,
  };
}

/**
 * Estimates one Δk curve of `variant`'s model (once per run: a step keyed by `params`, the
 * estimator and the threshold), writes curves/<name>.csv, and summarizes it.
 */
export async function curveStep(
  run: Run,
  name: string,
  label: string,
  params: Record<string, unknown>,
  variant: Variant,
  model: Sequential,
  data: DataSplits,
  opts: EstimateOptions,
  threshold?: number,
): Promise<{ summary: CurveSummary; curve: DeltaCurve }> {
  const spec = {
    params: { ...params, estimator: opts.estimator ?? "plain", threshold },
    reads: [checkpointFile(variant)],
    writes: [`curves/${name}.csv`],
  };
  const record = await run.step<CurveRecord>(name, spec, async () => {
    const curve = await estimateDelta(model, data.train, opts);
    await writeCsv(await run.path(`curves/${name}.csv`), CURVE_HEADER, curveRows(name, curve));
    return await curveRecord(curve, model, run.preset.seed, threshold);
  });
  const curve = await readCurve(run, name);
  const pick = (k: number) => {
    const i = k - 2;
    return i >= 0 && i < curve.k.length
      ? { k, delta: curve.delta[i], se: curve.se[i] }
      : { k, delta: NaN, se: NaN };
  };
  const summary: CurveSummary = {
    ...record,
    label,
    at: [pick(10), pick(100), pick(curve.k[curve.k.length - 1])],
    p: record.fit?.p ?? NaN,
    interval: record.fit?.interval ?? null,
    kRange: record.fit?.kRange ?? [NaN, NaN],
  };
  return { summary, curve };
}

/** A curve as its CSV holds it: per-k values and terms, no per-point differences. */
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
    terms: { data: col(6), landscape: col(7), landscapeSe: col(8), center: new Float32Array(0) },
  };
}

/** A curve's lines for a figure: Δk and its landscape term (with error bands), then its data term. */
export function termSeries(label: string, c: DeltaCurve, withData = true): CurveSeries[] {
  const t = c.terms!;
  return [
    { label, term: "Δk", k: c.k, delta: c.delta, se: c.se },
    { label, term: "landscape term", k: c.k, delta: t.landscape, se: t.landscapeSe },
    ...(withData ? [{ label, term: "data term a_k²", k: c.k, delta: t.data }] : []),
  ];
}
