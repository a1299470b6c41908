/**
 * `landscape`, `delta` and `sufficiency` for a user's own trained model (a checkpoint from
 * `train`): the 2D landscape and width, the Δk curve with its fitted rate, and the sample size
 * at which Δk falls below a threshold.
 * @module
 */
import { type DataSplits, downsample } from "../data/dataset.ts";
import { estimateDelta, sampleOrder } from "../landscape/estimate.ts";
import { lossSurface } from "../landscape/grid.ts";
import { fitRate } from "../landscape/rate.ts";
import { sufficiency } from "../landscape/sufficiency.ts";
import { landscapeWidth } from "../landscape/width.ts";
import type { Sequential } from "../nn/sequential.ts";
import { deltaFigure, heatmapFigure, surfaceFigure } from "../plot/figures.ts";
import { writeFigure } from "../plot/render.ts";
import { writeCsv } from "../report/csv.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import { dataFrom, dataOptions, device, deviceOptions, ensureDir, writeJson } from "./common.ts";
import { CliError, opt, type Parsed } from "./options.ts";

const shared = {
  checkpoint: opt.str("model checkpoint (.safetensors written by train)"),
  ...dataOptions,
  pool: opt.int("average-pool images by this factor to match the model's input", 1, 1),
  seed: opt.int("seed of the sample order, noise and directions", 0, 0),
  out: opt.str("output folder", "runs/<command>"),
  ...deviceOptions,
};

/** Options of `landscape`. */
export const landscapeOptions = {
  ...shared,
  grid: opt.int("grid points per axis", 51, 1),
  range: opt.num("coefficients span [-range, range]", 1, 0, true),
  "eval-samples": opt.int("training samples the loss is averaged over", 256, 1),
  "include-bias-norm": opt.flag("give biases and batch-norm parameters a direction (d = w)"),
  "global-norm": opt.num("rescale each direction to this global norm (0: off)", 0, 0),
  "width-directions": opt.int("random rays of the width measurement", 8, 1),
  "width-rise": opt.num("loss rise that marks the width edge", 1, 0, true),
};

/** Options of `delta`. */
export const deltaOptions = {
  ...shared,
  sigma: opt.num("standard deviation around w*", 0.01, 0, true),
  points: opt.int("Monte-Carlo points T", 64, 2),
  samples: opt.int("samples n = K + 1 (or batches when counting batches)", 1001, 3),
  mode: opt.choice("full space or a random subspace", "full", ["full", "subspace"] as const),
  dim: opt.int("subspace dimension", 2, 1),
  counting: opt.choice("what k counts", "samples", ["samples", "batches"] as const),
  "batch-size": opt.int("batch size when counting batches", 64, 1),
  reshuffle: opt.flag("reshuffle the data order for every point (the authors' code)"),
  "global-norm": opt.num("subspace: rescale each direction to this global norm (0: off)", 0, 0),
};

/** Options of `sufficiency`. */
export const sufficiencyOptions = {
  ...deltaOptions,
  threshold: opt.num("Δk threshold that counts as converged", 1e-6, 0, true),
};

async function setup(
  o: Parsed<typeof shared>,
  command: string,
): Promise<{ model: Sequential; data: DataSplits; out: string }> {
  if (!o.checkpoint) {
    throw new CliError(`--checkpoint is required (train one with 'deno task experiment train')`);
  }
  const gpu = await device(o);
  const { model } = await loadCheckpoint(gpu, o.checkpoint);
  const loaded = await dataFrom(o, o.seed);
  const data = {
    train: downsample(loaded.train, o.pool),
    validation: downsample(loaded.validation, o.pool),
    test: downsample(loaded.test, o.pool),
  };
  const want = model.config.inputShape.join(), got = data.train.shape.join();
  if (want !== got) {
    throw new CliError(
      `the model expects [${want}] inputs, the data gives [${got}]; pass --pool or --data to match`,
    );
  }
  const out = o.out ?? `runs/${command}`;
  await ensureDir(out);
  return { model, data, out };
}

/** Runs `landscape`. */
export async function landscapeCommand(o: Parsed<typeof landscapeOptions>): Promise<number> {
  const { model, data, out } = await setup(o, "landscape");
  const evalData = {
    dataset: sampleOrder(data.train, Math.min(o["eval-samples"], data.train.labels.length), o.seed),
    loss: "cross-entropy" as const,
  };
  const directions = {
    seed: o.seed + 17,
    includeBiasAndNorm: o["include-bias-norm"],
    globalNorm: o["global-norm"] || undefined,
  };
  const s = await lossSurface(model, evalData, {
    ...directions,
    resolution: o.grid,
    range: [-o.range, o.range],
  });
  const rows = [];
  for (let i = 0; i < s.resolution; i++) {
    for (let j = 0; j < s.resolution; j++) {
      rows.push([s.axis[i], s.axis[j], s.values[i * s.resolution + j]]);
    }
  }
  await writeCsv(`${out}/landscape.csv`, ["a", "b", "loss"], rows);
  const grid = { axis: s.axis, values: s.values };
  await writeFigure(
    `${out}/landscape`,
    heatmapFigure(`${model.config.name}: loss landscape`, grid),
  );
  await writeFigure(`${out}/surface`, surfaceFigure(`${model.config.name}: loss surface`, grid));
  const w = await landscapeWidth(model, evalData, {
    ...directions,
    seed: o.seed + 29,
    directions: o["width-directions"],
    rise: o["width-rise"],
  });
  await writeJson(`${out}/landscape.json`, {
    width: w,
    grid: o.grid,
    range: o.range,
    samples: evalData.dataset.labels.length,
  });
  console.error(
    `landscape: width ${w.radius.toFixed(4)} ± ${
      w.se.toFixed(4)
    } (loss rise ${w.rise}); wrote ${out}/landscape.csv, .png, .svg`,
  );
  model.dispose();
  return 0;
}

async function curve(o: Parsed<typeof deltaOptions>, command: string) {
  const { model, data, out } = await setup(o, command);
  const c = await estimateDelta(model, data.train, {
    sigma: o.sigma,
    points: o.points,
    samples: o.samples,
    seed: o.seed,
    mode: o.mode,
    dim: o.dim,
    counting: o.counting,
    batchSize: o["batch-size"],
    reshuffleSeed: o.reshuffle ? o.seed : undefined,
    directions: { globalNorm: o["global-norm"] || undefined },
  });
  model.dispose();
  await writeCsv(
    `${out}/delta.csv`,
    ["k", "delta", "se", "variance", "mean_squared"],
    Array.from(c.k, (k, i) => [k, c.delta[i], c.se[i], c.variance[i], c.meanSquared[i]]),
  );
  let fit = null;
  try {
    fit = fitRate(c, { seed: o.seed });
  } catch (e) {
    console.error(`${command}: no rate fit: ${(e as Error).message}`);
  }
  const fits = fit
    ? [{
      label: `fit: p = ${fit.p.toFixed(3)}`,
      p: fit.p,
      c: fit.c,
      kFrom: fit.kRange[0],
      kTo: fit.kRange[1],
    }]
    : [];
  const xTitle = o.counting === "batches" ? `k (batches of ${o["batch-size"]})` : "k (samples)";
  await writeFigure(
    `${out}/delta`,
    deltaFigure(
      `Δk (σ = ${o.sigma}, ${o.mode}${o.mode === "subspace" ? ` dim ${o.dim}` : ""})`,
      [{ label: "Δk", k: c.k, delta: c.delta, se: c.se }],
      fits,
      { xTitle },
    ),
  );
  return { c, fit, out };
}

/** Runs `delta`. */
export async function deltaCommand(o: Parsed<typeof deltaOptions>): Promise<number> {
  const { fit, out } = await curve(o, "delta");
  await writeJson(`${out}/delta.json`, {
    fit: fit && { p: fit.p, c: fit.c, interval: fit.interval, kRange: fit.kRange },
  });
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

/** Runs `sufficiency`. */
export async function sufficiencyCommand(o: Parsed<typeof sufficiencyOptions>): Promise<number> {
  const { c, fit, out } = await curve(o, "sufficiency");
  const s = sufficiency(c, o.threshold, { fit: fit ?? undefined, seed: o.seed });
  await writeJson(`${out}/sufficiency.json`, s);
  const text = s.status === "reached"
    ? `Δk stays below ${o.threshold} from k = ${s.k}${
      s.interval ? ` (95% CI ${s.interval[0]} to ${s.interval[1]})` : ""
    }`
    : s.status === "extrapolated"
    ? `not reached by k = ${s.measured[1]}; extrapolated k* ≈ ${Math.round(s.k)}${
      s.interval ? ` (95% CI ${Math.round(s.interval[0])} to ${Math.round(s.interval[1])})` : ""
    }`
    : `not reached by k = ${s.measured[1]}: ${s.reason}`;
  console.error(`sufficiency: ${text}; wrote ${out}/sufficiency.json`);
  return 0;
}
