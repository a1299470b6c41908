/**
 * The models the experiments compare, each trained with the preset's seeds (replicates) once
 * per run and kept as checkpoints (models/<model>-seed<seed>.safetensors); a finished training
 * step is loaded, not repeated.
 * @module
 */
import { datasetSize, type DataSplits, downsample } from "../data/dataset.ts";
import { cnn, mlp, type ModelConfig } from "../nn/model_config.ts";
import { Sequential } from "../nn/sequential.ts";
import { loadCheckpoint, saveCheckpoint } from "../train/checkpoint.ts";
import { evaluate, train } from "../train/trainer.ts";
import { splitMetadata, trainingSplit } from "../train/training_split.ts";
import { DivergenceError, requireAboveChance } from "../train/divergence.ts";
import type { Preset } from "./presets.ts";
import type { Run, StepSpec } from "./run.ts";

/** A model of an experiment, trained with one seed. */
export interface Variant {
  /** File-safe id of this trained model, e.g. "mlp-bn-dropout-seed0". */
  id: string;
  /** The model its seeds share, e.g. "mlp-bn-dropout". */
  model: string;
  /** Its training seed (initialisation, batch order, dropout). */
  seed: number;
  /** Legend label, e.g. "batch norm + dropout". */
  label: string;
  /** Full description for figure titles, e.g. "CNN, 4 conv layers, batch norm + dropout, seed 0". */
  title: string;
  config: ModelConfig;
  /** Image pooling factor of its data. */
  pool: number;
}

/** What training produced. */
export interface Trained {
  testAccuracy: number;
  testLoss: number;
  bestEpoch: number;
  validationAccuracy: number;
  seconds: number;
}

const STYLES = [
  { suffix: "bn-dropout", label: "batch norm + dropout", batchNorm: true, dropout: true },
  { suffix: "bn", label: "batch norm, no dropout", batchNorm: true, dropout: false },
  { suffix: "plain", label: "neither", batchNorm: false, dropout: false },
] as const;

/** The data a variant trains on (pooled for the CNN experiments). */
export function variantData(data: DataSplits, pool: number): DataSplits {
  if (pool === 1) return data;
  return {
    train: downsample(data.train, pool),
    validation: downsample(data.validation, pool),
    test: downsample(data.test, pool),
  };
}

/** The training seeds of the replicates: seed, seed + 1, ... (`seeds` of them). */
export function replicateSeeds(p: Preset): number[] {
  return Array.from({ length: p.seeds }, (_, r) => p.seed + r);
}

/** The same model trained with `seed`. */
export function withSeed(v: Variant, seed: number): Variant {
  const suffix = `, seed ${v.seed}`;
  const title = v.title.endsWith(suffix) ? v.title.slice(0, -suffix.length) : v.title;
  return { ...v, ...seeded(v.model, title, seed) };
}

/** Every replicate of each variant: the models trained with the preset's seeds. */
export function replicates(p: Preset, variants: Variant[]): Variant[] {
  return variants.flatMap((v) => replicateSeeds(p).map((seed) => withSeed(v, seed)));
}

/** The id, seed and title of `model` trained with `seed`. */
function seeded(model: string, title: string, seed: number) {
  return { id: `${model}-seed${seed}`, model, seed, title: `${title}, seed ${seed}` };
}

/** Fig. 3: the MLP with batch norm and dropout, batch norm only, neither (first seed). */
export function mlpVariants(p: Preset, inputShape: number[]): Variant[] {
  return STYLES.map((s) => ({
    ...seeded(`mlp-${s.suffix}`, `MLP ${p.mlpLayers} x ${p.mlpHidden}, ${s.label}`, p.seed),
    label: s.label,
    pool: 1,
    config: mlp({
      inputShape,
      hidden: p.mlpHidden,
      layers: p.mlpLayers,
      batchNorm: s.batchNorm,
      dropout: s.dropout ? p.dropout : 0,
    }),
  }));
}

function cnnShape(p: Preset, inputShape: number[]): number[] {
  const [c, h, w] = inputShape;
  return [c, h / p.cnnPool, w / p.cnnPool];
}

/** Fig. 2: the CNN with batch norm and dropout, batch norm only, neither (first seed). */
export function cnnVariants(p: Preset, inputShape: number[]): Variant[] {
  return STYLES.map((s) => cnnVariant(p, inputShape, p.cnnLayers, s, s.label));
}

function cnnVariant(
  p: Preset,
  inputShape: number[],
  layers: number,
  s: typeof STYLES[number],
  label: string,
): Variant {
  const kind = s === STYLES[2] ? "no batch norm or dropout" : s.label;
  return {
    ...seeded(
      `cnn${layers}-${s.suffix}`,
      `CNN, ${layers} conv layers of ${p.cnnChannels} channels, ${kind}`,
      p.seed,
    ),
    label,
    pool: p.cnnPool,
    config: cnn({
      inputShape: cnnShape(p, inputShape),
      channels: p.cnnChannels,
      convLayers: layers,
      headChannels: p.cnnHeadChannels,
      batchNorm: s.batchNorm,
      dropout: s.dropout ? p.dropout : 0,
    }),
  };
}

/** Fig. 4: the CNN without batch norm and dropout at several depths (first seed). */
export function depthVariants(p: Preset, inputShape: number[]): Variant[] {
  return p.depths.map((d) => cnnVariant(p, inputShape, d, STYLES[2], `${d} conv layers`));
}

/** The checkpoint of a variant, inside the run folder. */
export function checkpointFile(v: Variant): string {
  return `models/${v.id}.safetensors`;
}

/** How many epochs the preset trains variant `v` for (CNNs have their own count). */
function epochsOf(p: Preset, v: Variant): number {
  return v.config.name === "cnn" ? p.cnnEpochs : p.epochs;
}

/** What a variant's training step depends on and writes (its record: steps/train-<id>.json). */
export function trainingStep(run: Run, v: Variant, data: DataSplits): StepSpec {
  const p = run.preset;
  return {
    params: {
      config: v.config,
      pool: v.pool,
      epochs: epochsOf(p, v),
      lr: p.lr,
      batchSize: p.batchSize,
      seed: v.seed,
      data: data.train.name,
    },
    writes: [checkpointFile(v)],
  };
}

/**
 * The trained models an experiment uses, by experiment name: every seed of the models it
 * compares (Figs. 2-4, the rate, Fig. 5); Fig. 6 maps the first seed's model.
 */
export function experimentVariants(name: string, p: Preset, inputShape: number[]): Variant[] {
  const mlps = mlpVariants(p, inputShape);
  switch (name) {
    case "rate":
      return replicates(p, [mlps[0], mlps[2]]);
    case "fig2":
      return replicates(p, cnnVariants(p, inputShape));
    case "fig3":
      return replicates(p, mlps);
    case "fig4":
      return replicates(p, depthVariants(p, inputShape));
    case "fig5":
      return replicates(p, [mlps[0]]);
    case "fig6":
      return [mlps[0]];
    default:
      throw new RangeError(`unknown experiment "${name}"`);
  }
}

/**
 * Trains variant `v` unless its training step finished earlier: the record of its training and
 * the model when it was trained now (else undefined: its checkpoint holds it). A model that
 * diverged or ends (or, trained earlier, ended) at chance accuracy throws a DivergenceError
 * naming it: no experiment draws a verdict from it.
 */
export async function trainingOf(
  run: Run,
  v: Variant,
  data: DataSplits,
): Promise<{ model?: Sequential; trained: Trained }> {
  const p = run.preset;
  const epochs = epochsOf(p, v);
  const d = variantData(data, v.pool);
  let model: Sequential | undefined;
  const trained = await run.step<Trained>(`train-${v.id}`, trainingStep(run, v, data), async () => {
    model = new Sequential(run.gpu, v.config);
    const result = await train(model, d.train, {
      epochs,
      batchSize: p.batchSize,
      adam: { lr: p.lr },
      seed: v.seed,
      validation: d.validation,
    }).catch((e) => {
      model!.dispose();
      throw named(e, v);
    });
    const test = await evaluate(model, d.test);
    await saveCheckpoint(await run.path(checkpointFile(v)), model, {
      id: v.id,
      epoch: String(result.bestEpoch + 1),
      testAccuracy: String(test.accuracy),
      seed: String(v.seed),
      ...splitMetadata(trainingSplit(p.data, p.seed, data, p.trainLimit)),
    });
    const best = result.epochs[result.bestEpoch];
    return {
      testAccuracy: test.accuracy,
      testLoss: test.loss,
      bestEpoch: result.bestEpoch + 1,
      validationAccuracy: best.validation?.accuracy ?? NaN,
      seconds: result.epochs.reduce((s, e) => s + e.seconds, 0),
    };
  });
  // A record written before this check existed may hold a model at chance.
  try {
    requireAboveChance(trained.validationAccuracy, datasetSize(d.validation), d.train.classes, {
      epochs,
      lr: p.lr,
    });
  } catch (e) {
    model?.dispose();
    throw named(e, v);
  }
  return { model, trained };
}

/** The trained model of a variant: trains it (once per run) or loads its checkpoint. */
export async function trainedModel(
  run: Run,
  v: Variant,
  data: DataSplits,
): Promise<{ model: Sequential; trained: Trained }> {
  const { model, trained } = await trainingOf(run, v, data);
  return {
    model: model ?? (await loadCheckpoint(run.gpu, `${run.dir}/${checkpointFile(v)}`)).model,
    trained,
  };
}

/** A divergence of variant `v`'s training, saying so and that no verdict comes from it. */
function named(e: unknown, v: Variant): unknown {
  if (!(e instanceof DivergenceError)) return e;
  return new DivergenceError(
    e.kind,
    `model ${v.id} (${v.title}): ${e.message}; no experiment is run on it`,
    e.epoch,
    e.step,
    e.value,
  );
}
