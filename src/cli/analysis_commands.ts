/**
 * `landscape`, `delta` and `sufficiency` for a user's own trained model (a checkpoint from
 * `train`): the 2D landscape and width, the Δk curve with its fitted rate, and the sample size
 * at which Δk falls below a threshold. Each computes per-point values (optionally only a
 * shard's slice of the points, --shard) and then finishes its outputs from them; `merge`
 * finishes from the shards' values, so a merged run writes the same bytes as a single one.
 * @module
 */
import type { Dataset, DataSplits } from "../data/dataset.ts";
import { curveFromDifferences, type DeltaCurve } from "../landscape/delta.ts";
import {
  centerRowCount,
  estimateCenter,
  estimateDifferences,
  type EstimateOptions,
  sampleOrder,
} from "../landscape/estimate.ts";
import { quietBatchNormUnits, quietUnitsText } from "../landscape/quiet_units.ts";
import { heavyTails } from "../landscape/tails.ts";
import { gridMeans, surfaceFromMeans } from "../landscape/grid.ts";
import type { PointRange } from "../landscape/loss_matrix.ts";
import { fitRate } from "../landscape/rate.ts";
import { type Shard, shardRange } from "../landscape/shard.ts";
import { sufficiency } from "../landscape/sufficiency.ts";
import { widthCurve, widthFromCurve, widthPointCount } from "../landscape/width.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { gemmVariant } from "../nn/gemm.ts";
import type { Sequential } from "../nn/sequential.ts";
import { deltaFigure, heatmapFigure, rotatableSurfaceFigure } from "../plot/figures.ts";
import { figureFiles } from "../plot/render.ts";
import { writeAllAtomic } from "../report/atomic.ts";
import { toCsv } from "../report/csv.ts";
import { deviceOptions, jsonText } from "./common.ts";
import { checkpointOptions, loadCheckpointSetup } from "./checkpoint_setup.ts";
import { makeOutDir } from "./out_dir.ts";
import { CliError, onlyWhere, opt, type Parsed, requireEvenPairs } from "./options.ts";
import { gatherExperimentShards } from "./experiment_shards.ts";
import { checkCurveSizes, checkLandscapeSizes } from "./size_checks.ts";
import { sufficiencyAnswer, sufficiencyReport } from "./sufficiency_answer.ts";
import { writeMergedReport } from "./experiment_commands.ts";
import {
  assembleShards,
  fileHash,
  findShards,
  type PartValues,
  resolveShard,
  shardOptions,
  writeShard,
} from "./shards.ts";

const shared = {
  ...checkpointOptions,
  seed: opt.int(
    "seed of the sample order, noise and directions (not of the split: the checkpoint's)",
    0,
    0,
  ),
  out: opt.str("output folder", "runs/<command>"),
  ...shardOptions,
  ...deviceOptions,
};

/** Options of `landscape`. */
export const landscapeOptions = {
  ...shared,
  grid: opt.int("grid points per axis", 51, 1),
  range: opt.num("coefficients span [-range, range]", 1, 0, true),
  "eval-samples": opt.int("samples of --split the loss is averaged over", 256, 1),
  "include-bias-norm": opt.flag("give biases and batch-norm parameters a direction (d = w)"),
  "global-norm": opt.num("rescale each direction to this global norm (0: off)", 0, 0),
  "width-directions": opt.int("random rays of the width measurement", 8, 1),
  "width-rise": opt.num("loss rise that marks the width edge", 1, 0, true),
};

const subspaceOnly = (o: Record<string, unknown>) =>
  o.mode === "full" ? "with --mode full (only a subspace has directions)" : undefined;

/** Options of `delta`. */
export const deltaOptions = {
  ...shared,
  sigma: opt.num("standard deviation around w*", 0.01, 0, true),
  points: opt.int("Monte-Carlo points T", 64, 2),
  samples: opt.int(
    "samples n = K + 1 of --split, in a seeded order (or batches when counting batches)",
    1001,
    3,
  ),
  mode: opt.choice("full space or a random subspace", "full", ["full", "subspace"] as const),
  estimator: opt.choice(
    "antithetic: --points / 2 pairs w* ± σε (odd terms in ε cancel; the run reports the " +
      "variance ratio against plain); plain: independent points",
    "antithetic",
    ["antithetic", "plain"] as const,
  ),
  dim: onlyWhere(opt.int("subspace dimension", 2, 1), subspaceOnly),
  counting: opt.choice("what k counts", "samples", ["samples", "batches"] as const),
  "batch-size": onlyWhere(
    opt.int("batch size when counting batches", 64, 1),
    (o) => o.counting === "samples" ? "with --counting samples (k counts samples)" : undefined,
  ),
  reshuffle: opt.flag("reshuffle the data order for every point (the authors' code)"),
  "global-norm": onlyWhere(
    opt.num("subspace: rescale each direction to this global norm (0: off)", 0, 0),
    subspaceOnly,
  ),
};

/** Options of `sufficiency`. */
export const sufficiencyOptions = {
  ...deltaOptions,
  threshold: opt.num("Δk threshold that counts as converged", 1e-6, 0, true),
};

interface Setup {
  gpu: Gpu;
  model: Sequential;
  /** The checkpoint's training split. */
  data: DataSplits;
  /** The part of it --split names. */
  samples: Dataset;
  out: string;
  shard?: Shard;
}

/**
 * The device, model, data and shard of a command; `checkSizes` sees them before any work, so a
 * command whose sizes do not fit computes and writes nothing.
 */
async function setup(
  o: Parsed<typeof shared>,
  command: string,
  tooFew: ((n: number) => string | undefined) | undefined,
  checkSizes: (s: Omit<Setup, "out">) => void,
): Promise<Setup> {
  const shard = resolveShard(o.shard);
  const out = o.out ?? `runs/${command}`;
  await makeOutDir(out);
  const { gpu, model, data, samples } = await loadCheckpointSetup(o, tooFew);
  checkSizes({ gpu, model, data, samples, shard });
  return { gpu, model, data, samples, out, shard };
}

/** Options that only say where or how verbosely to work: not part of a configuration. */
const PLACE_OPTIONS = ["out", "shard", "verbose", "kernels", "checkpoint", "data-dir"];

/**
 * Everything that determines a command's values, identical on every machine that computes the
 * same thing: its options, the checkpoint's bytes, the data's identity and the GEMM core.
 */
async function configuration(
  command: string,
  o: Record<string, unknown>,
  s: Setup,
): Promise<Record<string, unknown>> {
  const options = Object.fromEntries(
    Object.entries(o).filter(([k, v]) => !PLACE_OPTIONS.includes(k) && v !== undefined),
  );
  const size = (d: { labels: ArrayLike<number> }) => d.labels.length;
  return {
    command,
    options,
    checkpoint: await fileHash(o.checkpoint as string),
    data: {
      name: s.data.train.name,
      shape: s.data.train.shape,
      sizes: [size(s.data.train), size(s.data.validation), size(s.data.test)],
    },
    gemm: gemmVariant(s.gpu),
  };
}

/** Points this process evaluates out of `total`: all, or its shard's slice. */
function share(total: number, shard?: Shard): PointRange {
  return shard ? shardRange(total, shard) : { first: 0, end: total };
}

/** Writes this process's values as a shard and says what to do next. */
async function saveShard(
  command: string,
  o: Record<string, unknown>,
  s: Setup,
  meta: Record<string, unknown>,
  parts: Record<string, PartValues>,
): Promise<number> {
  const shard = s.shard!;
  const dir = await writeShard(s.out, {
    command,
    config: await configuration(command, o, s),
    meta,
    shard,
    adapter: s.gpu.adapter,
  }, parts);
  const points = Object.entries(parts).map(([n, p]) =>
    `${n} points ${p.first}-${p.end - 1} of ${p.total}`
  );
  console.error(
    `${command}: shard ${shard.index}/${shard.count} (${points.join(", ")}) written to ${dir}; ` +
      `when all ${shard.count} are done: deno task experiment merge --out ${s.out}`,
  );
  return 0;
}

/** Four significant digits. */
function sig(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(4) : String(x);
}

function part(
  range: PointRange,
  total: number,
  perPoint: number,
  values: Float32Array,
): PartValues {
  return { ...range, total, perPoint, values };
}

function landscapeSettings(o: Parsed<typeof landscapeOptions>) {
  const directions = {
    seed: o.seed + 17,
    includeBiasAndNorm: o["include-bias-norm"],
    globalNorm: o["global-norm"] || undefined,
  };
  return {
    grid: { ...directions, resolution: o.grid, range: [-o.range, o.range] as [number, number] },
    width: {
      ...directions,
      seed: o.seed + 29,
      directions: o["width-directions"],
      rise: o["width-rise"],
    },
  };
}

/** Runs `landscape`. */
export async function landscapeCommand(o: Parsed<typeof landscapeOptions>): Promise<number> {
  const settings = landscapeSettings(o);
  const s = await setup(o, "landscape", undefined, ({ gpu, model, samples, shard }) => {
    // Probes per ray, as the width measurement defaults them.
    const steps = (widthPointCount(settings.width) - 1) / (2 * o["width-directions"]);
    checkLandscapeSizes(gpu, model.params.values.size, samples, o, steps, shard);
  });
  const { model, samples } = s;
  const evalData = {
    dataset: sampleOrder(samples, Math.min(o["eval-samples"], samples.labels.length), o.seed),
    loss: "cross-entropy" as const,
  };
  const totals = { grid: o.grid ** 2, width: widthPointCount(settings.width) };
  const gridRange = share(totals.grid, s.shard), widthRange = share(totals.width, s.shard);
  const grid = await gridMeans(model, evalData, settings.grid, gridRange);
  const width = await widthCurve(model, evalData, settings.width, widthRange);
  const meta = { model: model.config.name, samples: evalData.dataset.labels.length };
  model.dispose();
  if (s.shard) {
    return await saveShard("landscape", o, s, meta, {
      grid: part(gridRange, totals.grid, 1, grid),
      width: part(widthRange, totals.width, 1, width),
    });
  }
  return await finishLandscape(s.out, o, meta, grid, width);
}

async function finishLandscape(
  out: string,
  o: Parsed<typeof landscapeOptions>,
  meta: Record<string, unknown>,
  gridValues: Float32Array,
  widthValues: Float32Array,
): Promise<number> {
  const settings = landscapeSettings(o);
  const s = surfaceFromMeans(gridValues, settings.grid);
  const rows = [];
  for (let i = 0; i < s.resolution; i++) {
    for (let j = 0; j < s.resolution; j++) {
      rows.push([s.axis[i], s.axis[j], s.values[i * s.resolution + j]]);
    }
  }
  const grid = { axis: s.axis, values: s.values };
  const w = widthFromCurve(widthValues, settings.width);
  // All outputs or none: a failed write never leaves new files beside an older run's.
  await writeAllAtomic([
    [`${out}/landscape.csv`, toCsv(["a", "b", "loss"], rows)],
    ...await figureFiles(`${out}/landscape`, heatmapFigure(`${meta.model}: loss landscape`, grid)),
    ...await figureFiles(
      `${out}/surface`,
      rotatableSurfaceFigure(`${meta.model}: loss surface`, grid),
    ),
    [
      `${out}/landscape.json`,
      jsonText({
        width: w,
        grid: o.grid,
        range: o.range,
        samples: meta.samples,
      }),
    ],
  ]);
  console.error(
    `landscape: width ${w.radius.toFixed(4)} ± ${
      w.se.toFixed(4)
    } (loss rise ${w.rise}); wrote ${out}/landscape.csv, .png, .svg`,
  );
  return 0;
}

/** What `estimateDifferences` and `estimateCenter` are asked for. */
function estimateOptions(o: Parsed<typeof deltaOptions>): EstimateOptions {
  return {
    sigma: o.sigma,
    points: o.points,
    samples: o.samples,
    seed: o.seed,
    mode: o.mode,
    dim: o.dim,
    estimator: o.estimator,
    counting: o.counting,
    batchSize: o["batch-size"],
    reshuffleSeed: o.reshuffle ? o.seed : undefined,
    directions: { globalNorm: o["global-norm"] || undefined },
  };
}

/** The differences of this process's share of the Δk points, or the finished outputs. */
async function curveCommand(o: Parsed<typeof deltaOptions>, command: string): Promise<number> {
  requireEvenPairs(o.points, o.estimator);
  const perUnit = o.counting === "batches" ? o["batch-size"] : 1;
  const s = await setup(o, command, (n) => {
    if (o.samples * perUnit <= n) return undefined;
    const asked = perUnit > 1
      ? `${o.samples} batches of ${perUnit} (${o.samples * perUnit} samples)`
      : String(o.samples);
    return `--samples ${asked} exceeds the ${n} samples of the ${o.split} split; pass ` +
      `--samples ${Math.floor(n / perUnit)} or less, or another --split`;
  }, ({ gpu, model, samples, shard }) => {
    checkCurveSizes(gpu, model.params.values.size, samples, o, shard);
  });
  const e = estimateOptions(o);
  const range = share(o.points, s.shard);
  const rows = await estimateDifferences(s.model, s.samples, e, range);
  // The differences at w* (the data term): one row, or one per point when reshuffled.
  const centerTotal = centerRowCount(e), centerRange = share(centerTotal, s.shard);
  const center = await estimateCenter(s.model, s.samples, e, centerRange);
  const meta = {
    quietUnits: await quietBatchNormUnits(s.model),
    // The samples of the part analysed: the answer compares k* with them.
    available: s.samples.labels.length,
  };
  s.model.dispose();
  if (s.shard) {
    return await saveShard(command, o, s, meta, {
      differences: part(range, o.points, o.samples - 1, rows),
      center: part(centerRange, centerTotal, o.samples - 1, center),
    });
  }
  return await finishCurve(command, s.out, o, meta, rows, center);
}

/** Values of a curve at k (NaN where k is not measured). */
function termsAt(c: DeltaCurve, k: number) {
  const j = c.k.indexOf(k);
  const at = (x: ArrayLike<number> | undefined) => j >= 0 && x ? x[j] : NaN;
  const data = at(c.terms?.data), landscape = at(c.terms?.landscape);
  return {
    k,
    delta: at(c.delta),
    deltaSe: at(c.se),
    dataTerm: data,
    landscapeTerm: landscape,
    landscapeSe: at(c.terms?.landscapeSe),
    varianceRatio: at(c.varianceRatio),
    dominant: Math.abs(landscape) > Math.abs(data) ? "landscape term" : "data term",
  };
}

async function finishCurve(
  command: string,
  out: string,
  o: Parsed<typeof deltaOptions>,
  meta: Record<string, unknown>,
  differences: Float32Array,
  center: Float32Array,
): Promise<number> {
  const c = curveFromDifferences(differences, o.points, { estimator: o.estimator, center });
  const t = c.terms!;
  // Written together at the end, all or none (see finishLandscape).
  const files: [string, string | Uint8Array][] = [[
    `${out}/delta.csv`,
    toCsv(
      [
        ...["k", "delta", "delta_se", "data_term", "landscape_term", "landscape_se"],
        ...["variance", "mean_squared", "variance_ratio"],
      ],
      Array.from(c.k, (k, i) => [
        ...[k, c.delta[i], c.se[i], t.data[i], t.landscape[i], t.landscapeSe[i]],
        ...[c.variance[i], c.meanSquared[i], c.varianceRatio?.[i]],
      ]),
    ),
  ]];
  const tails = heavyTails(c, { seed: o.seed });
  const reported = tails.at.map((a) => termsAt(c, a.k));
  const quiet = (meta.quietUnits ?? []) as Awaited<ReturnType<typeof quietBatchNormUnits>>;
  const notes = [tails.warning, quietUnitsText(quiet)].filter((n): n is string => n !== null);
  for (const n of notes) console.error(`${command}: warning: ${n}`);
  const ratios = o.estimator === "antithetic"
    ? reported.map((r) => `${sig(r.varianceRatio)}x at k = ${r.k}`).join(", ")
    : "";
  console.error(
    `${command}: ` +
      reported.map((r) =>
        `Δ_${r.k} = ${sig(r.delta)} ± ${sig(r.deltaSe)} = data term ${sig(r.dataTerm)} + ` +
        `landscape term ${sig(r.landscapeTerm)} ± ${sig(r.landscapeSe)}`
      ).join("; ") +
      (ratios
        ? `; antithetic pairs cut the variance against plain points by ${ratios}` +
          (reported.some((r) => r.varianceRatio < 1)
            ? " (below 1: plain points win at this σ, pass --estimator plain)"
            : "")
        : ""),
  );
  const diagnostics = {
    estimator: o.estimator,
    terms: reported,
    tails,
    quietUnits: quiet,
    warnings: notes,
  };
  let fit = null;
  try {
    fit = fitRate(c, { seed: o.seed });
  } catch (e) {
    console.error(`${command}: no rate fit: ${(e as Error).message}`);
  }
  const fits = fit
    ? [{
      label: `fit p = ${fit.p.toFixed(3)}`,
      curve: "Δk",
      p: fit.p,
      c: fit.c,
      kFrom: fit.kRange[0],
      kTo: fit.kRange[1],
    }]
    : [];
  const xTitle = o.counting === "batches" ? `k (batches of ${o["batch-size"]})` : "k (samples)";
  files.push(
    ...await figureFiles(
      `${out}/delta`,
      deltaFigure(
        `Δk (σ = ${o.sigma}, ${o.mode}${o.mode === "subspace" ? ` dim ${o.dim}` : ""}, ` +
          `${o.estimator})`,
        [
          { label: "Δk", k: c.k, delta: c.delta, se: c.se },
          { label: "data term a_k²", k: c.k, delta: t.data },
          { label: "landscape term Δk − a_k²", k: c.k, delta: t.landscape, se: t.landscapeSe },
        ],
        fits,
        { xTitle },
      ),
    ),
  );
  if (command === "delta") {
    await writeAllAtomic([...files, [
      `${out}/delta.json`,
      jsonText({
        fit: fit && { p: fit.p, c: fit.c, interval: fit.interval, kRange: fit.kRange },
        ...diagnostics,
      }),
    ]]);
    console.error(
      `delta: ${
        fit
          ? `fitted rate p = ${fit.p.toFixed(3)}${
            fit.interval
              ? ` (95% CI ${fit.interval[0].toFixed(3)} to ${fit.interval[1].toFixed(3)})`
              : ""
          }`
          : "no fit"
      }; wrote ${out}/delta.csv, .png, .svg`,
    );
    return 0;
  }
  const threshold = (o as Parsed<typeof sufficiencyOptions>).threshold;
  const suff = sufficiency(c, threshold, { fit: fit ?? undefined, seed: o.seed });
  // Which term dominates at k*: at the crossing, or at the last k measured when extrapolated.
  const at = termsAt(c, suff.status === "reached" ? suff.k : c.k[c.k.length - 1]);
  const available = meta.available as number | undefined;
  const answer = sufficiencyAnswer(suff, threshold, available);
  await writeAllAtomic([
    ...files,
    [
      `${out}/sufficiency.json`,
      jsonText({ ...suff, atK: at, ...diagnostics, available: available ?? null, answer }),
    ],
    [`${out}/report.md`, sufficiencyReport(answer, o)],
  ]);
  console.log(answer);
  const where = suff.status === "reached" ? "at k*" : `at the last k measured (${at.k})`;
  console.error(
    `sufficiency: ${where} the ${at.dominant} dominates (data term ` +
      `${sig(at.dataTerm)}, landscape term ${sig(at.landscapeTerm)} ± ${sig(at.landscapeSe)}); ` +
      `wrote ${out}/sufficiency.json, report.md, delta.csv, .png, .svg`,
  );
  return 0;
}

/** Runs `delta`. */
export function deltaCommand(o: Parsed<typeof deltaOptions>): Promise<number> {
  return curveCommand(o, "delta");
}

/** Runs `sufficiency`. */
export function sufficiencyCommand(o: Parsed<typeof sufficiencyOptions>): Promise<number> {
  return curveCommand(o, "sufficiency");
}

/** Options of `merge`. */
export const mergeOptions = {
  out: opt.str("run folder: shards are read from OUT/shards and the outputs written to OUT"),
  from: opt.str(
    "more shard folders or run folders, comma-separated (e.g. copied from other machines)",
  ),
  "mixed-adapters": opt.flag("merge shards computed on different adapters"),
};

/** Runs `merge`: checks the shards, then writes exactly a single run's outputs. */
export async function mergeCommand(o: Parsed<typeof mergeOptions>): Promise<number> {
  if (!o.out) throw new CliError("--out is required: the run folder the shards were written to");
  const from = o.from ? o.from.split(",").map((f) => f.trim()).filter(Boolean) : [];
  for (const f of from) {
    if (!(await Deno.stat(f).then((i) => i.isDirectory, () => false))) {
      throw new CliError(`--from folder "${f}" does not exist`);
    }
  }
  const experiments = await gatherExperimentShards(o.out, from, {
    mixedAdapters: o["mixed-adapters"],
  });
  if (experiments) {
    console.error(
      `merge: ${experiments.shard.count} shards of ${experiments.command} (configuration ${
        experiments.configHash.slice(0, 12)
      }); writing the report`,
    );
    return await writeMergedReport(o.out, experiments);
  }
  const shards = await findShards([o.out, ...from]);
  const { manifest, parts } = await assembleShards(shards, {
    mixedAdapters: o["mixed-adapters"],
  });
  const options = manifest.config.options as Record<string, unknown>;
  console.error(
    `merge: ${shards.length} shards of ${manifest.command} (configuration ${
      manifest.configHash.slice(0, 12)
    })`,
  );
  switch (manifest.command) {
    case "landscape":
      return await finishLandscape(
        o.out,
        options as Parsed<typeof landscapeOptions>,
        manifest.meta,
        parts.grid,
        parts.width,
      );
    case "delta":
    case "sufficiency":
      if (!parts.center) {
        throw new CliError(
          `the shards of ${manifest.command} in ${o.out} carry no differences at w* (written by ` +
            `an older version): rerun them with this version`,
        );
      }
      return await finishCurve(
        manifest.command,
        o.out,
        options as Parsed<typeof deltaOptions>,
        manifest.meta,
        parts.differences,
        parts.center,
      );
    default:
      throw new CliError(`shards of "${manifest.command}" cannot be merged by this version`);
  }
}
