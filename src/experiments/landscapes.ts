/**
 * Figs. 2-4: for each model variant, the 2D loss landscape around its trained w* (heat map with
 * contours, and a 3D-looking surface, of the first seed's model) and its width, measured on
 * every seed's model, so the paper's visual claims ("batch norm narrows, dropout widens",
 * "deeper is wider") become numbers with both levels of noise: between the rays of one model
 * and between models trained with different seeds.
 * @module
 */
import type { DataSplits } from "../data/dataset.ts";
import { sampleOrder } from "../landscape/estimate.ts";
import { lossSurface } from "../landscape/grid.ts";
import { landscapeWidth } from "../landscape/width.ts";
import type { Sequential } from "../nn/sequential.ts";
import { heatmapFigure, replicateFigure, rotatableSurfaceFigure } from "../plot/figures.ts";
import { FIGURE_SPEC, writeFigure } from "../plot/render.ts";
import { writeCsv } from "../report/csv.ts";
import { type Replicated, summarizeSeeds } from "./compare.ts";
import {
  checkpointFile,
  replicates,
  type Trained,
  trainedModel,
  type Variant,
  variantData,
} from "./models.ts";
import type { Run } from "./run.ts";

/** The width of one seed's model: the mean edge radius over its rays. */
export interface SeedWidth {
  /** Its training seed, and the id of its model (e.g. "cnn4-bn-seed1"). */
  seed: number;
  id: string;
  trained: Trained;
  /** Mean loss at w*. */
  centerLoss: number;
  /** Mean edge radius, its standard error over the rays, rays never reaching the edge. */
  width: { radius: number; se: number; censored: number; rays: number };
}

/** One variant's results, over its seeds. */
export interface LandscapeResult {
  /** The model its seeds share, e.g. "cnn4-bn". */
  id: string;
  label: string;
  /** Each seed's width. */
  seeds: SeedWidth[];
  /** The width over seeds: mean, its SE and 95% CI, the noise between and within seeds. */
  width: Replicated;
  /** The first seed's map: loss at its centre (w*), lowest and highest loss on the grid. */
  map: { id: string; centerLoss: number; minLoss: number; maxLoss: number };
}

/** A figure's results: per variant, and the files written. */
export interface LandscapeFigure {
  figure: string;
  title: string;
  variants: LandscapeResult[];
  files: string[];
}

/** The first seed's map of `v`'s landscape (heat map and surface), once per run. */
async function mapStep(
  run: Run,
  v: Variant,
  model: Sequential,
  evalData: Parameters<typeof lossSurface>[1],
): Promise<LandscapeResult["map"]> {
  const p = run.preset;
  const params = {
    id: v.id,
    grid: p.grid,
    range: p.range,
    samples: p.landscapeSamples,
    seed: p.seed,
  };
  // Steps and files belong to the model, so figures that share a model share them.
  const writes = [
    `landscapes/landscape_${v.id}.csv`,
    `landscapes/landscape_${v.id}.svg`,
    `landscapes/landscape_${v.id}.png`,
    `landscapes/landscape_${v.id}.${FIGURE_SPEC}`,
    `landscapes/surface_${v.id}.svg`,
    `landscapes/surface_${v.id}.png`,
    `landscapes/surface_${v.id}.${FIGURE_SPEC}`,
  ];
  const spec = { params, reads: [checkpointFile(v)], writes };
  const stats = await run.step(`landscape-${v.id}`, spec, async () => {
    const s = await lossSurface(model, evalData, {
      seed: p.seed + 17,
      resolution: p.grid,
      range: [-p.range, p.range],
    });
    const rows = [];
    for (let i = 0; i < s.resolution; i++) {
      for (let j = 0; j < s.resolution; j++) {
        rows.push([s.axis[i], s.axis[j], s.values[i * s.resolution + j]]);
      }
    }
    await writeCsv(await run.path(`landscapes/landscape_${v.id}.csv`), ["a", "b", "loss"], rows);
    const grid = { axis: s.axis, values: s.values };
    await writeFigure(await run.path(`landscapes/landscape_${v.id}`), heatmapFigure(v.title, grid));
    await writeFigure(
      await run.path(`landscapes/surface_${v.id}`),
      rotatableSurfaceFigure(v.title, grid),
    );
    return {
      centerLoss: s.values[Math.floor(s.resolution / 2) * (s.resolution + 1)],
      minLoss: Math.min(...s.values),
      maxLoss: Math.max(...s.values),
    };
  });
  return { id: v.id, ...stats };
}

/** The width of one seed's model, once per run (its rays are drawn with its own seed). */
function widthStep(
  run: Run,
  v: Variant,
  model: Sequential,
  evalData: Parameters<typeof landscapeWidth>[1],
): Promise<SeedWidth["width"] & { baseLoss: number }> {
  const p = run.preset;
  const params = {
    id: v.id,
    directions: p.widthDirections,
    rise: p.widthRise,
    radius: p.widthRadius,
    steps: p.widthSteps,
    samples: p.landscapeSamples,
    seed: v.seed,
  };
  const spec = { params, reads: [checkpointFile(v)] };
  return run.step(`width-${v.id}`, spec, async () => {
    const w = await landscapeWidth(model, evalData, {
      seed: v.seed + 29,
      directions: p.widthDirections,
      rise: p.widthRise,
      maxRadius: p.widthRadius,
      steps: p.widthSteps,
    });
    const { radius, se, censored, baseLoss } = w;
    return { radius, se, censored, rays: w.radii.length, baseLoss };
  });
}

/** Trains (or loads) each variant's seeds, maps the first seed's landscape, measures every width. */
export async function landscapeExperiment(
  run: Run,
  figure: string,
  title: string,
  variants: Variant[],
  data: DataSplits,
): Promise<LandscapeFigure> {
  const p = run.preset;
  const results: LandscapeResult[] = [];
  const files: string[] = [];
  for (const first of variants) {
    const d = variantData(data, first.pool);
    const evalData = {
      dataset: sampleOrder(d.train, Math.min(p.landscapeSamples, d.train.labels.length), p.seed),
      loss: "cross-entropy" as const,
    };
    const seeds: SeedWidth[] = [];
    let map: LandscapeResult["map"] | undefined;
    for (const v of replicates(p, [first])) {
      const { model, trained } = await trainedModel(run, v, data);
      try {
        if (!map) {
          map = await mapStep(run, v, model, evalData);
          files.push(
            `landscapes/landscape_${v.id}.csv`,
            `landscapes/landscape_${v.id}.png`,
            `landscapes/surface_${v.id}.png`,
          );
        }
        const { baseLoss, ...width } = await widthStep(run, v, model, evalData);
        seeds.push({ seed: v.seed, id: v.id, trained, centerLoss: baseLoss, width });
      } finally {
        model.dispose();
      }
    }
    results.push({
      id: first.model,
      label: first.label,
      seeds,
      width: summarizeSeeds(seeds.map((s) => ({ value: s.width.radius, se: s.width.se }))),
      map: map!,
    });
  }
  await writeCsv(
    await run.path(`${figure}/widths.csv`),
    [
      ...["model", "label", "seed", "width", "width_se", "censored_rays", "rays"],
      ...["center_loss", "test_accuracy"],
    ],
    results.flatMap((r) =>
      r.seeds.map((s) => [
        ...[r.id, r.label, s.seed, s.width.radius, s.width.se, s.width.censored, s.width.rays],
        ...[s.centerLoss, s.trained.testAccuracy],
      ])
    ),
  );
  await writeCsv(
    await run.path(`${figure}/width_means.csv`),
    [
      ...["model", "label", "seeds", "width", "width_se", "ci_lo", "ci_hi"],
      ...["between_seeds_sd", "within_seed_se"],
    ],
    results.map((r) => [
      ...[r.id, r.label, r.width.seeds, r.width.mean, r.width.se],
      ...[r.width.interval?.[0], r.width.interval?.[1], r.width.between, r.width.within],
    ]),
  );
  await writeFigure(
    await run.path(`${figure}/widths`),
    replicateFigure(
      `${title}: width (radius where the loss rises by ${p.widthRise}), every seed and the mean`,
      results.map((r) => ({
        label: r.label,
        seeds: r.seeds.map((s) => ({ seed: s.seed, value: s.width.radius, se: s.width.se })),
        mean: r.width.mean,
        interval: r.width.interval,
      })),
      "width (direction units)",
    ),
  );
  files.push(`${figure}/widths.csv`, `${figure}/width_means.csv`, `${figure}/widths.png`);
  return { figure, title, variants: results, files };
}
