/**
 * `train`: trains a model, keeps the best validation epoch, reports test accuracy, and writes
 * the checkpoint and a JSON summary.
 * @module
 */
import { datasetSize } from "../data/dataset.ts";
import { Sequential } from "../nn/sequential.ts";
import { checkpointBytes } from "../train/checkpoint.ts";
import { splitMetadata, trainingSplit } from "../train/training_split.ts";
import { writeAllAtomic } from "../report/atomic.ts";
import { evaluate, train } from "../train/trainer.ts";
import {
  dataFrom,
  dataOptions,
  device,
  deviceOptions,
  jsonText,
  modelFor,
  modelOptions,
} from "./common.ts";
import { opt, type Parsed } from "./options.ts";
import { isOwnData } from "./own_data_options.ts";
import { withClasses } from "../data/own_data.ts";
import { modelClasses } from "../nn/model_spec.ts";
import { makeOutDir } from "./out_dir.ts";
import { checkTrainingSizes } from "./size_checks.ts";

/** Options of `train`. */
export const trainOptions = {
  ...modelOptions,
  ...dataOptions,
  epochs: opt.int("passes over the training data", 10, 1),
  "batch-size": opt.int("samples per Adam step", 64, 1),
  lr: opt.num("Adam learning rate", 3e-4, 0, true),
  "weight-decay": opt.num("Adam L2 weight decay", 0, 0),
  seed: opt.int("seed of initialisation, data order, hold-out and dropout", 0, 0),
  out: opt.str("output folder", "runs/train"),
  ...deviceOptions,
};

/** Runs `train`; returns the exit code. */
export async function trainCommand(o: Parsed<typeof trainOptions>): Promise<number> {
  const out = o.out ?? "runs/train";
  await makeOutDir(out); // first: an unusable --out fails before the training
  const gpu = await device(o);
  const loaded = await dataFrom(o, o.seed, { requireTest: true });
  const config = await modelFor(o, loaded.train);
  // A spec's class count is the data's, whichever labels the samples happen to hold.
  const data = isOwnData(o.data) ? withClasses(loaded, modelClasses(config)) : loaded;
  checkTrainingSizes(gpu, config, data, o["batch-size"]);
  console.error(
    `train: ${config.name} on ${data.train.name.split("/")[0]} from ${data.source}: ` +
      `${datasetSize(data.train)} train, ${datasetSize(data.validation)} validation, ${
        datasetSize(data.test)
      } test`,
  );
  const model = new Sequential(gpu, config);
  const started = performance.now();
  const result = await train(model, data.train, {
    epochs: o.epochs,
    batchSize: o["batch-size"],
    adam: { lr: o.lr, weightDecay: o["weight-decay"] },
    seed: o.seed,
    validation: data.validation,
  });
  const seconds = (performance.now() - started) / 1000;
  const test = await evaluate(model, data.test);
  const summary = {
    config,
    data: {
      name: data.train.name,
      source: data.source,
      train: datasetSize(data.train),
      test: datasetSize(data.test),
    },
    options: {
      epochs: o.epochs,
      batchSize: o["batch-size"],
      lr: o.lr,
      weightDecay: o["weight-decay"],
      seed: o.seed,
    },
    adapter: gpu.adapter,
    seconds,
    bestEpoch: result.bestEpoch + 1,
    epochs: result.epochs,
    test,
  };
  const checkpoint = await checkpointBytes(model, {
    epoch: String(result.bestEpoch + 1),
    testAccuracy: String(test.accuracy),
    seed: String(o.seed),
    ...splitMetadata(
      trainingSplit(o.data, o.seed, data, o["train-limit"], o["test-fraction"]),
    ),
  });
  // Both or neither: a summary never describes another run's checkpoint.
  await writeAllAtomic([
    [`${out}/model.safetensors`, checkpoint],
    [`${out}/train.json`, jsonText(summary)],
  ]);
  console.error(
    `train: best epoch ${result.bestEpoch + 1}; test loss ${test.loss.toFixed(4)}, accuracy ` +
      `${(100 * test.accuracy).toFixed(2)}%; ${
        seconds.toFixed(0)
      } s on ${gpu.adapter}; wrote ${out}/model.safetensors`,
  );
  model.dispose();
  return 0;
}
