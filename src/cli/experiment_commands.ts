/**
 * The experiment commands: one per figure of the paper (fig2 .. fig6), `rate` (Theorem 1),
 * `all`, and `report`. They share the run folder (default runs/<preset>), skip finished steps,
 * and rewrite the report after every command.
 * @module
 */
import type { DataSplits } from "../data/dataset.ts";
import { loadData } from "../data/load.ts";
import { fig5, fig6, rateExperiment } from "../experiments/convergence.ts";
import { landscapeExperiment } from "../experiments/landscapes.ts";
import { cnnVariants, depthVariants, mlpVariants } from "../experiments/models.ts";
import { type Preset, PRESETS } from "../experiments/presets.ts";
import { type ReportRun, type RunResults, writeReport } from "../experiments/report.ts";
import { saveResult } from "../experiments/results.ts";
import { Run } from "../experiments/run.ts";
import { dataIdentity } from "../data/identity.ts";
import { gemmVariant } from "../nn/gemm.ts";
import { type DatasetName, DATASETS } from "../data/load.ts";
import {
  CliError,
  onlyWhere,
  opt,
  type Option,
  type OptionSet,
  type Parsed,
  requireEvenPairs,
} from "./options.ts";
import { unusedPresetField } from "./experiment_uses.ts";
import { device, deviceOptions, jsonText } from "./common.ts";
import { makeOutDir } from "./out_dir.ts";
import {
  assignedExperiments,
  experimentConfig,
  type ExperimentShardManifest,
  requireTrained,
  trainModels,
  writeExperimentShard,
} from "./experiment_shards.ts";
import { resolveShard, shardOptions } from "./shards.ts";
import { checkExperimentSizes } from "./size_checks.ts";
import denoJson from "../../deno.json" with { type: "json" };

type NumericKey = { [K in keyof Preset]-?: Preset[K] extends number ? K : never }[keyof Preset];
type ListKey = { [K in keyof Preset]-?: Preset[K] extends number[] ? K : never }[keyof Preset];

/** Lower bounds of the preset's sizes (checked when overridden). */
const LIMITS: Partial<
  Record<NumericKey | ListKey, { min: number; integer: boolean; exclusive?: boolean }>
> = {
  epochs: { min: 1, integer: true },
  cnnEpochs: { min: 1, integer: true },
  batchSize: { min: 1, integer: true },
  lr: { min: 0, integer: false, exclusive: true },
  mlpHidden: { min: 1, integer: true },
  mlpLayers: { min: 0, integer: true },
  dropout: { min: 0, integer: false },
  cnnChannels: { min: 1, integer: true },
  cnnLayers: { min: 1, integer: true },
  cnnHeadChannels: { min: 1, integer: true },
  cnnPool: { min: 1, integer: true },
  depths: { min: 0, integer: true },
  grid: { min: 1, integer: true },
  range: { min: 0, integer: false, exclusive: true },
  landscapeSamples: { min: 1, integer: true },
  widthDirections: { min: 1, integer: true },
  widthRise: { min: 0, integer: false, exclusive: true },
  widthRadius: { min: 0, integer: false, exclusive: true },
  widthSteps: { min: 1, integer: true },
  points: { min: 2, integer: true },
  samples: { min: 3, integer: true },
  sigma: { min: 0, integer: false, exclusive: true },
  sigmas: { min: 0, integer: false },
  dims: { min: 0, integer: true },
  dimSigma: { min: 0, integer: false, exclusive: true },
  integrandGrid: { min: 1, integer: true },
  integrandKs: { min: 0, integer: true },
  integrandSigma: { min: 0, integer: false, exclusive: true },
  integrandRange: { min: 0, integer: false, exclusive: true },
  theoryKs: { min: 0, integer: true },
  theorySigma: { min: 0, integer: false, exclusive: true },
  theoryProbes: { min: 2, integer: true },
  theoryPoints: { min: 2, integer: true },
  threshold: { min: 0, integer: false, exclusive: true },
  seed: { min: 0, integer: true },
  seeds: { min: 1, integer: true },
};

/** Help of the preset fields whose name alone would mislead. */
const HELP: Partial<Record<NumericKey | ListKey, string>> = {
  seeds: "override the preset's seeds: replicates, each compared model trained with this many " +
    "seeds (--seed, --seed + 1, ...)",
};

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function presetOption(key: NumericKey | ListKey): Option<number | number[] | undefined> {
  const lim = LIMITS[key] ?? { min: 0, integer: false };
  const isList = Array.isArray(PRESETS.default[key]);
  const help = HELP[key] ?? `override the preset's ${kebab(key).replaceAll("-", " ")}`;
  return {
    type: "string",
    help,
    parse(raw, name) {
      if (raw === undefined) return undefined;
      if (isList) return opt.list(help, [], lim.min, lim.integer).parse(raw, name);
      return lim.integer
        ? opt.int(help, 0, lim.min).parse(raw, name)
        : opt.num(help, 0, lim.min, lim.exclusive ?? false).parse(raw, name);
    },
  };
}

const overrideKeys = Object.keys(LIMITS) as (NumericKey | ListKey)[];

/** Options every experiment command takes. */
export const experimentOptions: OptionSet = {
  preset: opt.choice("sizes of the experiments", "default", Object.keys(PRESETS)),
  out: opt.str("run folder", "runs/<preset>"),
  data: {
    ...opt.choice<DatasetName>("dataset", "fashion-mnist", DATASETS),
    defaultText: "preset's",
    parse: (
      raw,
      name,
    ) => (raw === undefined
      ? undefined
      : opt.choice<DatasetName>("", "fashion-mnist", DATASETS).parse(raw, name)),
  } as Option<DatasetName | undefined>,
  "data-dir": opt.str("dataset directory (cifar10: the cifar-10-batches-bin folder)", "auto"),
  "train-limit": opt.maybeInt("use only the first N training samples"),
  validation: opt.maybeInt("training samples held out for validation"),
  estimator: opt.maybeChoice(
    "how the Δk curves draw their points: antithetic pairs w* ± σε (odd terms in ε cancel; " +
      "the run reports the variance ratio against plain points) or plain points",
    ["antithetic", "plain"] as const,
    "preset's",
  ),
  "train-only": opt.flag("only train the models the experiments use (before --shard runs)"),
  ...shardOptions,
  ...deviceOptions,
  ...Object.fromEntries(overrideKeys.map((k) => [kebab(k), presetOption(k)])),
};

/**
 * The options of experiment command `command`, which runs `experiments` (none: `report`): the
 * same as {@link experimentOptions}, but an option those experiments would not read is refused.
 * `report` reads the preset's options (it reports the results computed with them), not the data
 * folder, the matrix-product core or the shard and training options.
 */
export function experimentCommandOptions(
  command: string,
  experiments: readonly ExperimentName[],
): OptionSet {
  const report = () =>
    experiments.length === 0
      ? `by ${command} (it rewrites the report from the results in the run folder)`
      : undefined;
  const generated = (o: Record<string, unknown>) => {
    if ((o.data ?? PRESETS[o.preset as string].data) !== "synthetic") return undefined;
    return o.data
      ? "with --data synthetic (its data is generated)"
      : `with the ${o.preset} preset's synthetic data (it is generated; --data names files)`;
  };
  const set: OptionSet = { ...experimentOptions };
  for (const name of ["train-only", "shard", "kernels"]) {
    set[name] = onlyWhere(experimentOptions[name], report);
  }
  set["data-dir"] = onlyWhere(experimentOptions["data-dir"], (o) => report() ?? generated(o));
  if (experiments.length === 0) return set;
  for (const key of [...overrideKeys, "estimator" as const]) {
    set[kebab(key)] = onlyWhere(
      experimentOptions[kebab(key)],
      () => unusedPresetField(command, experiments, key),
    );
  }
  return set;
}

/** The preset options as given (for commands to suggest), e.g. "--preset tiny --grid 5 ". */
function presetArgs(o: Record<string, unknown>): string {
  const keys = [
    "preset",
    "data",
    "data-dir",
    "train-limit",
    "validation",
    "estimator",
    ...overrideKeys.map(kebab),
  ];
  return keys.filter((k) => o[k] !== undefined && !(k === "preset" && o[k] === "default"))
    .map((k) => `--${k} ${Array.isArray(o[k]) ? (o[k] as number[]).join(",") : o[k]} `).join("");
}

/** The preset with command-line overrides applied. */
export function resolvePreset(o: Record<string, unknown>): Preset {
  const preset: Preset = structuredClone(PRESETS[o.preset as string]);
  for (const k of overrideKeys) {
    const v = o[kebab(k)];
    if (v !== undefined) (preset as unknown as Record<string, unknown>)[k] = v;
  }
  if (o.data !== undefined) preset.data = o.data as DatasetName;
  if (o["data-dir"] !== undefined) preset.dataDir = o["data-dir"] as string;
  if (o["train-limit"] !== undefined) preset.trainLimit = o["train-limit"] as number;
  if (o.validation !== undefined) preset.validation = o.validation as number;
  if (o.estimator !== undefined) preset.estimator = o.estimator as Preset["estimator"];
  requireEvenPairs(preset.points, preset.estimator);
  if (preset.dropout >= 1) throw new CliError(`--dropout must be below 1, got ${preset.dropout}`);
  if (preset.integrandKs.some((k) => k < 1)) {
    throw new CliError("--integrand-ks must be integers >= 1");
  }
  if (preset.theoryKs.some((k) => k < 1)) throw new CliError("--theory-ks must be integers >= 1");
  if (preset.dims.some((d) => d < 1)) throw new CliError("--dims must be integers >= 1");
  if (preset.depths.some((d) => d < 1)) throw new CliError("--depths must be integers >= 1");
  return preset;
}

/** The experiments, in the order `all` runs them (MLP models first, they are reused). */
export const EXPERIMENTS = ["rate", "fig3", "fig5", "fig6", "fig2", "fig4"] as const;
/** Name of an experiment. */
export type ExperimentName = typeof EXPERIMENTS[number];

const TITLES: Record<ExperimentName, string> = {
  rate:
    "Rate of convergence of Δk (Theorem 1): fitted slope, sufficiency, closed form vs Monte Carlo",
  fig2: "Fig. 2: CNN landscapes with batch norm + dropout, batch norm only, neither",
  fig3: "Fig. 3: MLP landscapes with batch norm + dropout, batch norm only, neither",
  fig4: "Fig. 4: CNN landscapes at several depths",
  fig5: "Fig. 5: Δk against σ and against the subspace dimension",
  fig6: "Fig. 6: integrand maps (L_{k+1} - L_k)² p(w) for k = 1, 50, 100",
};

/** One-line summary of an experiment command. */
export function experimentSummary(name: ExperimentName | "all" | "report"): string {
  if (name === "all") return "Run every experiment (rate, fig2 .. fig6) and write the report.";
  if (name === "report") return "Rewrite report.md/.html/.json from the results in the run folder.";
  return TITLES[name];
}

async function runOne(run: Run, name: ExperimentName, data: DataSplits): Promise<void> {
  const p = run.preset;
  const shape = data.train.shape;
  // Every seed of the experiment's models first, so a run of one experiment holds its replicates.
  await trainModels(run, [name], data);
  let result: RunResults[keyof RunResults];
  switch (name) {
    case "fig2":
      result = await landscapeExperiment(
        run,
        "fig2",
        `Fig. 2: CNN, ${p.cnnLayers} conv layers`,
        cnnVariants(p, shape),
        data,
      );
      break;
    case "fig3":
      result = await landscapeExperiment(
        run,
        "fig3",
        `Fig. 3: MLP, ${p.mlpLayers} x ${p.mlpHidden}`,
        mlpVariants(p, shape),
        data,
      );
      break;
    case "fig4":
      result = await landscapeExperiment(
        run,
        "fig4",
        "Fig. 4: CNN depth",
        depthVariants(p, shape),
        data,
      );
      break;
    case "fig5":
      result = await fig5(run, data);
      break;
    case "fig6":
      result = await fig6(run, data);
      break;
    case "rate":
      result = await rateExperiment(run, data);
      break;
  }
  await saveResult(run, name, result);
}

function checkData(p: Preset): void {
  if (p.dataDir !== undefined) {
    try {
      Deno.statSync(p.dataDir);
    } catch {
      throw new CliError(`--data-dir "${p.dataDir}" does not exist`);
    }
  }
  if (p.data === "cifar10" && !p.dataDir) {
    throw new CliError("--data cifar10 needs --data-dir PATH (the cifar-10-batches-bin folder)");
  }
}

/** The preset a run folder's run.json records, or undefined when it has none. */
async function recordedPreset(dir: string): Promise<Preset | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/run.json`);
  } catch {
    return undefined;
  }
  try {
    const preset = JSON.parse(text).preset as Preset | undefined;
    // Fields a run recorded before they existed take the preset's default, so its results
    // (computed without them) are named as other options rather than misread.
    if (preset && typeof preset.name === "string" && preset.name in PRESETS) {
      return { ...PRESETS[preset.name], ...preset };
    }
  } catch {
    // named below
  }
  throw new CliError(
    `${dir}/run.json is damaged (no valid preset): pass the run's options (--preset ...) to report`,
  );
}

/** A run folder ready for its experiments: its device, run, data (none for `report`). */
interface PreparedRun {
  run: Run;
  dir: string;
  /** The command line as run.json records it. */
  commandLine: string;
  data: DataSplits | null;
  /** When the command started (performance.now()). */
  started: number;
}

/**
 * Resolves the preset, checks data, sizes and (for a shard) trained models before anything is
 * written, and describes the run in run.json (written with the first step record).
 */
async function prepareRun(
  command: string,
  names: ExperimentName[],
  o: Parsed<typeof experimentOptions>,
  shard: ReturnType<typeof resolveShard>,
): Promise<PreparedRun> {
  let preset = resolvePreset(o);
  checkData(preset);
  const dir = (o.out as string | undefined) ?? `runs/${preset.name}`;
  // `report` with no preset options reports the run with the options it recorded.
  if (names.length === 0 && presetArgs(o) === "") preset = (await recordedPreset(dir)) ?? preset;
  await makeOutDir(dir);
  const started = performance.now();
  const gpu = await device(o as Parsed<typeof deviceOptions>);
  const loaded = names.length === 0 ? null : await loadData({
    data: preset.data,
    dataDir: preset.dataDir,
    validation: preset.validation,
    trainLimit: preset.trainLimit,
    seed: preset.seed,
  });
  // The sizes are checked before any model is trained or file written.
  if (loaded) checkExperimentSizes(gpu, preset, names, loaded);
  // What every step depends on besides its options: a step of other data or of another core
  // (a different float32 summation order) is recomputed.
  const context = loaded ? { data: await dataIdentity(loaded), kernels: gemmVariant(gpu) } : {};
  const run = new Run(dir, gpu, preset, context);
  if (shard && loaded) {
    // Before anything is written: a shard of untrained models writes nothing.
    await requireTrained(
      run,
      names,
      loaded,
      `deno task experiment ${command} --train-only ${presetArgs(o)}--out ${dir}`,
    );
  }
  const commandLine = `deno task experiment ${Deno.args.join(" ")}`.trim();
  run.describe(
    "run.json",
    jsonText({
      command: commandLine,
      preset,
      ...context,
      adapter: gpu.adapter,
      versions: {
        engine: denoJson.version,
        deno: Deno.version.deno,
        v8: Deno.version.v8,
        typescript: Deno.version.typescript,
      },
      updated: new Date().toISOString(),
    }),
  );
  if (loaded) {
    run.say(
      `${command}: ${preset.name} preset, ${loaded.train.labels.length} training samples from ${loaded.source}, writing ${dir}`,
    );
  }
  const data = loaded
    ? { train: loaded.train, validation: loaded.validation, test: loaded.test }
    : null;
  return { run, dir, commandLine, data, started };
}

/** `--train-only`: trains the models the experiments use, for the shards that follow. */
async function trainOnly(
  p: PreparedRun,
  command: string,
  names: ExperimentName[],
  data: DataSplits,
): Promise<void> {
  const count = await trainModels(p.run, names, data);
  await p.run.flush();
  p.run.say(
    `${command}: ${count} models trained in ${p.dir}; now run the shards (--shard i/n), then merge`,
  );
}

/** `--shard i/n`: runs this shard's experiments and writes its part for merge. */
async function runShard(
  p: PreparedRun,
  command: string,
  names: ExperimentName[],
  data: DataSplits,
  shard: NonNullable<ReturnType<typeof resolveShard>>,
): Promise<void> {
  const mine = assignedExperiments(names, shard);
  p.run.say(`${command}: shard ${shard.index}/${shard.count} runs ${mine.join(", ") || "nothing"}`);
  for (const name of mine) await runOne(p.run, name, data);
  await p.run.flush();
  const config = experimentConfig(p.run, names, data);
  const path = await writeExperimentShard(p.run, command, config, shard, mine);
  p.run.say(
    `${command}: wrote ${path}; when all ${shard.count} shards are done: ` +
      `deno task experiment merge --out ${p.dir}`,
  );
}

/** Prints each claim's verdict and each result the report left out. */
function sayReport(
  say: (line: string) => void,
  { claims, left }: Awaited<ReturnType<typeof writeReport>>,
): void {
  for (const c of claims) say(`claim ${c.id}: ${c.verdict} (${c.measured})`);
  for (const l of left) say(`left out of the report: ${l}`);
}

/** Writes the report from the run folder's results. */
async function reportRun(p: PreparedRun, command: string): Promise<void> {
  await p.run.flush();
  const seconds = () => (performance.now() - p.started) / 1000;
  const written = await writeReport(p.run, {
    command: p.commandLine,
    adapter: p.run.gpu.adapter,
    seconds: seconds(),
  });
  sayReport(p.run.say, written);
  p.run.say(
    `${command}: wrote ${p.dir}/report.md and ${p.dir}/report.html in ${seconds().toFixed(0)} s`,
  );
}

/** Runs experiments `names` (or only rewrites the report when empty); returns the exit code. */
export async function experimentCommand(
  command: string,
  names: ExperimentName[],
  o: Parsed<typeof experimentOptions>,
): Promise<number> {
  const shard = resolveShard(o.shard as string | undefined);
  if (shard && o["train-only"]) {
    throw new CliError("--train-only runs once before the shards; give it without --shard");
  }
  const p = await prepareRun(command, names, o, shard);
  try {
    if (p.data && o["train-only"]) await trainOnly(p, command, names, p.data);
    else if (p.data && shard) await runShard(p, command, names, p.data, shard);
    else {
      if (p.data) { for (const name of names) await runOne(p.run, name, p.data); }
      await reportRun(p, command);
    }
  } finally {
    p.run.gpu.destroy();
  }
  return 0;
}

/** Writes the report of a run whose experiments ran as shards (see experiment_shards.ts). */
export async function writeMergedReport(
  dir: string,
  manifest: ExperimentShardManifest,
): Promise<number> {
  const preset = { ...(manifest.config.preset as Preset) };
  // The shards computed everything: the report needs the folder, not a device.
  const run: ReportRun = {
    dir,
    preset,
    context: {},
    log: [],
    path: (file) => Promise.resolve(`${dir}/${file}`),
  };
  // The time the shards spent, from their step records.
  let seconds = 0;
  for await (const e of Deno.readDir(`${dir}/steps`)) {
    if (e.name.endsWith(".json")) {
      seconds += JSON.parse(await Deno.readTextFile(`${dir}/steps/${e.name}`)).seconds ?? 0;
    }
  }
  const written = await writeReport(run, {
    command: `deno task experiment merge --out ${dir}`,
    adapter: manifest.adapter,
    seconds,
  });
  sayReport((line) => console.error(line), written);
  console.error(`merge: wrote ${dir}/report.md and ${dir}/report.html`);
  return 0;
}
