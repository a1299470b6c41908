/**
 * Figs. 2-4: for each model variant, the 2D loss landscape around its trained w* (heat map with
 * contours, and a 3D-looking surface) and its width, so the paper's visual claims ("batch norm
 * narrows, dropout widens", "deeper is wider") become numbers.
 * @module
 */
import type { DataSplits } from "../data/dataset.ts";
import { sampleOrder } from "../landscape/estimate.ts";
import { lossSurface } from "../landscape/grid.ts";
import { landscapeWidth } from "../landscape/width.ts";
import { barFigure, heatmapFigure, surfaceFigure } from "../plot/figures.ts";
import { writeFigure } from "../plot/render.ts";
import { writeCsv } from "../report/csv.ts";
import { checkpointFile, type Trained, trainedModel, type Variant, variantData } from "./models.ts";
import type { Run } from "./run.ts";

/** One variant's results. */
export interface LandscapeResult {
  id: string;
  label: string;
  trained: Trained;
  /** Mean loss at w*, at the grid centre. */
  centerLoss: number;
  /** Lowest and highest loss on the grid. */
  minLoss: number;
  maxLoss: number;
  width: { radius: number; se: number; censored: number; rays: number };
}

/** A figure's results: per variant, and the files written. */
export interface LandscapeFigure {
  figure: string;
  title: string;
  variants: LandscapeResult[];
  files: string[];
}

/** Trains (or loads) each variant, maps its landscape and measures its width. */
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
  for (const v of variants) {
    const { model, trained } = await trainedModel(run, v, data);
    const d = variantData(data, v.pool);
    const evalData = {
      dataset: sampleOrder(d.train, Math.min(p.landscapeSamples, d.train.labels.length), p.seed),
      loss: "cross-entropy" as const,
    };
    const gridParams = {
      id: v.id,
      grid: p.grid,
      range: p.range,
      samples: p.landscapeSamples,
      seed: p.seed,
    };
    // Steps and files belong to the model, so figures that share a model share them.
    const reads = [checkpointFile(v)];
    const writes = [
      `landscapes/landscape_${v.id}.csv`,
      `landscapes/landscape_${v.id}.svg`,
      `landscapes/landscape_${v.id}.png`,
      `landscapes/surface_${v.id}.svg`,
      `landscapes/surface_${v.id}.png`,
    ];
    const surfaceStep = { params: gridParams, reads, writes };
    const surface = await run.step(`landscape-${v.id}`, surfaceStep, async () => {
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
      await writeFigure(
        await run.path(`landscapes/landscape_${v.id}`),
        heatmapFigure(v.title, grid),
      );
      await writeFigure(await run.path(`landscapes/surface_${v.id}`), surfaceFigure(v.title, grid));
      return {
        centerLoss: s.values[Math.floor(s.resolution / 2) * (s.resolution + 1)],
        minLoss: Math.min(...s.values),
        maxLoss: Math.max(...s.values),
      };
    });
    files.push(
      `landscapes/landscape_${v.id}.csv`,
      `landscapes/landscape_${v.id}.png`,
      `landscapes/surface_${v.id}.png`,
    );
    const widthParams = {
      id: v.id,
      directions: p.widthDirections,
      rise: p.widthRise,
      radius: p.widthRadius,
      steps: p.widthSteps,
      samples: p.landscapeSamples,
      seed: p.seed,
    };
    const width = await run.step(`width-${v.id}`, { params: widthParams, reads }, async () => {
      const w = await landscapeWidth(model, evalData, {
        seed: p.seed + 29,
        directions: p.widthDirections,
        rise: p.widthRise,
        maxRadius: p.widthRadius,
        steps: p.widthSteps,
      });
      return { radius: w.radius, se: w.se, censored: w.censored, rays: w.radii.length };
    });
    results.push({ id: v.id, label: v.label, trained, ...surface, width });
    model.dispose();
  }
  await writeCsv(
    await run.path(`${figure}/widths.csv`),
    [
      "model",
      "label",
      "width",
      "width_se",
      "censored_rays",
      "rays",
      "center_loss",
      "test_accuracy",
    ],
    results.map((
      r,
    ) => [
      r.id,
      r.label,
      r.width.radius,
      r.width.se,
      r.width.censored,
      r.width.rays,
      r.centerLoss,
      r.trained.testAccuracy,
    ]),
  );
  await writeFigure(
    await run.path(`${figure}/widths`),
    barFigure(
      `${title}: width (radius where the loss rises by ${p.widthRise})`,
      results.map((r) => ({ label: r.label, value: r.width.radius, se: r.width.se })),
      "width (direction units)",
    ),
  );
  files.push(`${figure}/widths.csv`, `${figure}/widths.png`);
  return { figure, title, variants: results, files };
}
