/**
 * The commands' sizes against this adapter's limits, the host's memory and the data, checked
 * once the model and data are known and before any direction is drawn, model trained or file
 * written: the error names the option and the largest value that fits.
 * @module
 */
import type { Dataset, DataSplits } from "../data/dataset.ts";
import type { Preset } from "../experiments/presets.ts";
import {
  cnnVariants,
  depthVariants,
  experimentVariants,
  mlpVariants,
  type Variant,
} from "../experiments/models.ts";
import type { Gpu } from "../gpu/gpu.ts";
import {
  type Budget,
  budgetOf,
  combine,
  curveNeeds,
  fixed,
  footprintNeeds,
  gridNeeds,
  integrandNeeds,
  lossMatrixFootprint,
  samplesNeed,
  size,
  type Term,
  trainingFootprint,
  widthNeeds,
} from "../landscape/needs.ts";
import { type Shard, shardRange } from "../landscape/shard.ts";
import { type Need, type Size, sizeProblem } from "../landscape/sizes.ts";
import { flatParameterLength, layerShapes } from "../nn/sequential.ts";
import type { ModelConfig } from "../nn/model_config.ts";
import type { ExperimentName } from "./experiment_commands.ts";
import { CliError } from "./options.ts";

/** The budget of `gpu` with the host memory available now. */
function budget(gpu: Gpu): Budget {
  return budgetOf(gpu, Deno.systemMemoryInfo().available);
}

/** Throws a CliError naming the option and the largest value that fits, if any need is over. */
function require(sizes: Size[], needs: Need[]): void {
  const problem = sizeProblem(sizes, needs);
  if (problem) throw new CliError(problem);
}

/** Rows a process evaluates of `points`: all, or its shard's slice. */
function rows(points: Term, shard?: Shard): Term {
  if (!shard) return points;
  return combine([points], (p) => {
    const r = shardRange(p, shard);
    return r.end - r.first;
  });
}

/** A landscape grid and a width measurement over `samples` evaluation samples. */
function landscapeNeeds(
  b: Budget,
  params: number,
  o: { grid: Term; samples: Term; directions: Term; steps: Term; shard?: Shard },
): Need[] {
  const share = (points: Term) => rows(points, o.shard);
  return [
    ...gridNeeds(b, params, { grid: o.grid, samples: o.samples, rows: share }),
    ...widthNeeds(b, params, { ...o, rows: share }),
  ];
}

/** Batches of `--batch-size` samples from `available` for each model of `configs`. */
function trainingNeeds(b: Budget, configs: ModelConfig[], available: number): Need[] {
  const batch = size("--batch-size");
  return [
    samplesNeed("one training batch", batch, available),
    ...configs.flatMap((c) =>
      footprintNeeds(`a training step of ${c.name}`, trainingFootprint(layerShapes(c), batch), b)
    ),
  ];
}

/** Checks `train` before the model is built. */
export function checkTrainingSizes(
  gpu: Gpu,
  config: ModelConfig,
  data: DataSplits,
  batchSize: number,
): void {
  require(
    [{ name: "--batch-size", value: batchSize, min: 1 }],
    trainingNeeds(budget(gpu), [config], data.train.labels.length),
  );
}

/** Checks `delta` and `sufficiency` before the directions are drawn. */
export function checkCurveSizes(
  gpu: Gpu,
  params: number,
  samples: Dataset,
  o: {
    points: number;
    samples: number;
    mode: string;
    estimator: string;
    dim: number;
    counting: string;
    "batch-size": number;
    reshuffle: boolean;
  },
  shard?: Shard,
): void {
  const batches = o.counting === "batches";
  const sizes: Size[] = [
    { name: "--points", value: o.points, min: 2, step: o.estimator === "antithetic" ? 2 : 1 },
    { name: "--samples", value: o.samples, min: 3 },
    { name: "--dim", value: o.dim, min: 1 },
    { name: "--batch-size", value: o["batch-size"], min: 1 },
  ];
  const columns = batches
    ? combine([size("--samples"), size("--batch-size")], (s, b) => s * b)
    : size("--samples");
  require(
    sizes,
    curveNeeds(budget(gpu), params, {
      points: rows(size("--points"), shard),
      columns,
      dim: o.mode === "subspace" ? size("--dim") : undefined,
      reshuffle: o.reshuffle,
      available: samples.labels.length,
    }),
  );
}

/** Checks `landscape` before the directions are drawn. */
export function checkLandscapeSizes(
  gpu: Gpu,
  params: number,
  samples: Dataset,
  o: { grid: number; "eval-samples": number; "width-directions": number },
  steps: number,
  shard?: Shard,
): void {
  const available = samples.labels.length;
  require(
    [
      { name: "--grid", value: o.grid, min: 1 },
      { name: "--eval-samples", value: o["eval-samples"], min: 1 },
      { name: "--width-directions", value: o["width-directions"], min: 1 },
    ],
    landscapeNeeds(budget(gpu), params, {
      grid: size("--grid"),
      samples: combine([size("--eval-samples")], (e) => Math.min(e, available)),
      directions: size("--width-directions"),
      steps: fixed(steps),
      shard,
    }),
  );
}

const largest = (variants: Variant[]) =>
  Math.max(...variants.map((v) => flatParameterLength(v.config)));

/**
 * Checks the sizes of experiments `names` under preset `p` on `data` before any model is
 * trained: the Δk curves of `rate` and Fig. 5, the theory check, the landscapes and widths of
 * Figs. 2-4 and the integrand maps of Fig. 6.
 */
export function checkExperimentSizes(
  gpu: Gpu,
  p: Preset,
  names: readonly ExperimentName[],
  data: DataSplits,
): void {
  const list = (name: string, values: number[], min: number): Size => ({
    name,
    value: Math.max(...values),
    min,
    text: values.join(","),
  });
  const sizes: Size[] = [
    { name: "--points", value: p.points, min: 2 },
    { name: "--samples", value: p.samples, min: 3 },
    list("--dims", p.dims, 1),
    { name: "--grid", value: p.grid, min: 1 },
    { name: "--landscape-samples", value: p.landscapeSamples, min: 1 },
    { name: "--width-directions", value: p.widthDirections, min: 1 },
    { name: "--width-steps", value: p.widthSteps, min: 1 },
    { name: "--integrand-grid", value: p.integrandGrid, min: 1 },
    list("--integrand-ks", p.integrandKs, 1),
    list("--theory-ks", p.theoryKs, 1),
    { name: "--theory-points", value: p.theoryPoints, min: 2 },
    { name: "--batch-size", value: p.batchSize, min: 1 },
  ];
  const b = budget(gpu), shape = data.train.shape, available = data.train.labels.length;
  const mlpParams = largest(mlpVariants(p, shape));
  const curve = (dim?: Term) =>
    curveNeeds(b, mlpParams, {
      points: size("--points"),
      columns: size("--samples"),
      dim,
      reshuffle: true,
      available,
    });
  const landscapes = (variants: Variant[]) =>
    landscapeNeeds(b, largest(variants), {
      grid: size("--grid"),
      samples: combine([size("--landscape-samples")], (s) => Math.min(s, available)),
      directions: size("--width-directions"),
      steps: size("--width-steps"),
    });
  const needs: Record<ExperimentName, () => Need[]> = {
    rate: () => {
      const k = combine([size("--theory-ks")], (k) => k + 1);
      return [
        ...curve(),
        samplesNeed("the theory check's samples", k, available),
        ...footprintNeeds(
          "the theory check's loss matrix",
          lossMatrixFootprint(size("--theory-points"), k, { differences: true }),
          b,
        ),
      ];
    },
    fig5: () => [...curve(), ...curve(size("--dims"))],
    fig6: () =>
      integrandNeeds(b, mlpParams, {
        grid: size("--integrand-grid"),
        columns: combine([size("--integrand-ks")], (k) => k + 1),
        available,
      }),
    fig3: () => landscapes(mlpVariants(p, shape)),
    fig2: () => landscapes(cnnVariants(p, shape)),
    fig4: () => landscapes(depthVariants(p, shape)),
  };
  // The models the experiments train (seeds share a footprint: one config each).
  const configs = new Map(
    names.flatMap((n) => experimentVariants(n, p, shape)).map((v) => [v.model, v.config]),
  );
  const trained = [...configs.values()];
  require(sizes, [
    ...trainingNeeds(b, trained, available),
    ...names.flatMap((n) => needs[n]()),
  ]);
}
