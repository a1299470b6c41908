/**
 * Divergence is more than NaN: a loss that stays far above guessing's stops training, a model
 * no better than guessing is refused, and experiments draw no verdict from such a model.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Dataset, DataSplits } from "../src/data/dataset.ts";
import { loadData } from "../src/data/load.ts";
import { synthetic } from "../src/data/synthetic.ts";
import {
  checkpointFile,
  mlpVariants,
  trainedModel,
  trainingStep,
} from "../src/experiments/models.ts";
import { PRESETS } from "../src/experiments/presets.ts";
import { Run } from "../src/experiments/run.ts";
import { mlp } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { PhiloxStream, RNG_DOMAIN } from "../src/rng/philox.ts";
import {
  chanceLimit,
  DivergenceError,
  type DivergenceKind,
  LossWatch,
  requireAboveChance,
} from "../src/train/divergence.ts";
import { quietSink } from "../src/train/progress.ts";
import { train } from "../src/train/trainer.ts";
import { cli } from "./cli_run.ts";
import { gpuTest } from "./helpers.ts";

/** A predicate for assert.throws/rejects: a DivergenceError of `kind` matching `pattern`. */
function diverged(kind: DivergenceKind, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof DivergenceError, `${e}`);
    assert.equal(e.kind, kind);
    assert.match(e.message, pattern);
    return true;
  };
}

/** `data` with labels drawn at random: nothing to learn, so accuracy stays at chance. */
function randomLabels(data: Dataset, seed: number): Dataset {
  const rng = new PhiloxStream(seed, 7, RNG_DOMAIN.data);
  return { ...data, labels: data.labels.map(() => rng.nextInt(data.classes)) };
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.push(...(await files(join(dir, e.name))).map((f) => `${e.name}/${f}`));
    else out.push(e.name);
  }
  return out.sort();
}

Deno.test("a loss spike is not divergence; a window whose median is far above ln(C) is", () => {
  const watch = new LossWatch(10, 0.5);
  // Every third step spikes far above the limit: the median stays at ln(10).
  for (let s = 0; s < 60; s++) watch.observe(0, s, s % 3 === 0 ? 1e9 : Math.log(10));
  // Then the loss stays at 30 nats, above 10 ln(10) = 23.03: the window's median crosses the
  // limit once 11 of its 20 steps are high, at step 67 (1-based): 4 spikes and 7 steps at 30.
  assert.throws(
    () => {
      for (let s = 60; s < 100; s++) watch.observe(1, s, 30);
    },
    diverged(
      "exploding loss",
      /^training diverged: the median loss over the last 20 steps, 30.0, is above 23.03 = 10 x ln\(10\) .* at epoch 2, step 67 \(learning rate 0.5\); lower the learning rate/,
    ),
  );
  assert.throws(
    () => new LossWatch(10, 0.5).observe(0, 4, NaN),
    diverged("non-finite loss", /training diverged: loss NaN at epoch 1, step 5/),
  );
});

Deno.test("chance accuracy: within 3 standard errors of 1/C is refused, unless n is too small", () => {
  assert.ok(Math.abs(chanceLimit(200, 10) - (0.1 + 3 * Math.sqrt(0.09 / 200))) < 1e-15);
  requireAboveChance(0.2, 200, 10, { epochs: 2, lr: 1 });
  assert.throws(
    () => requireAboveChance(0.15, 200, 10, { epochs: 2, lr: 1 }),
    diverged(
      "chance accuracy",
      /^training ended at chance accuracy: the best validation accuracy, 15.0% on 200 samples, is not above 16.4% \(guessing among 10 classes scores 10.0%.* after 2 epochs \(learning rate 1\)/,
    ),
  );
  // One sample cannot show anything better than guessing: no verdict either way.
  requireAboveChance(0, 1, 10, { epochs: 2, lr: 1 });
});

gpuTest("training whose loss explodes stops within its first epoch", async (gpu) => {
  const data = synthetic({ samples: 2200, seed: 1 });
  const model = new Sequential(gpu, mlp({ inputShape: [1, 8, 8], hidden: 16, layers: 2 }));
  const epochs: number[] = [];
  await assert.rejects(
    () =>
      train(model, data, {
        epochs: 3,
        adam: { lr: 1e6 },
        progress: quietSink,
        onEpoch: (r) => void epochs.push(r.epoch),
      }),
    diverged("exploding loss", /median loss over the last 20 steps, .* at epoch 1, step 20 /),
  );
  assert.deepEqual(epochs, [], "no epoch finished, so nothing was saved");
  model.dispose();
});

gpuTest("training that ends no better than guessing is refused", async (gpu) => {
  const data = randomLabels(synthetic({ samples: 1000, seed: 2 }), 1);
  const validation = randomLabels(synthetic({ samples: 300, seed: 2, part: 1 }), 2);
  const model = new Sequential(gpu, mlp({ inputShape: [1, 8, 8], hidden: 16, layers: 1 }));
  await assert.rejects(
    () => train(model, data, { epochs: 2, adam: { lr: 3e-3 }, validation, progress: quietSink }),
    diverged("chance accuracy", /on 300 samples, is not above 15.2% .* after 2 epochs/),
  );
  model.dispose();
});

gpuTest(
  "experiments draw no verdict from a model at chance accuracy, trained now or recorded earlier",
  async (gpu) => {
    const dir = await Deno.makeTempDir({ prefix: "chance run " });
    try {
      const preset = { ...PRESETS.tiny, epochs: 1 };
      const run = new Run(dir, gpu, preset, {}, () => {});
      const loaded = await loadData({ data: "synthetic", seed: 0 });
      const random: DataSplits = {
        train: randomLabels(loaded.train, 3),
        validation: randomLabels(loaded.validation, 4),
        test: loaded.test,
      };
      const [v] = mlpVariants(preset, loaded.train.shape);
      const refused = diverged(
        "chance accuracy",
        /^model mlp-bn-dropout-seed0 \(MLP 2 x 16, batch norm \+ dropout, seed 0\): training ended at chance accuracy.*; no experiment is run on it$/,
      );
      await assert.rejects(() => trainedModel(run, v, random), refused);
      assert.deepEqual(await files(dir), [], "no checkpoint, no step record");
      // A run folder whose record (from a version without this check) holds a chance model.
      const data: DataSplits = {
        train: loaded.train,
        validation: loaded.validation,
        test: loaded.test,
      };
      await run.step(`train-${v.id}`, trainingStep(run, v, data), async () => {
        await Deno.writeTextFile(await run.path(checkpointFile(v)), "a checkpoint");
        return {
          testAccuracy: 0.1,
          testLoss: 2.3,
          bestEpoch: 1,
          validationAccuracy: 0.1,
          seconds: 1,
        };
      });
      await assert.rejects(() => trainedModel(run, v, data), refused);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest("an experiment run whose models diverge stops without a report", async () => {
  const out = await Deno.makeTempDir({ prefix: "diverging run " });
  try {
    const r = await cli("all", "--preset", "tiny", "--lr", "1e6", "--out", out);
    assert.equal(r.code, 1, r.out);
    assert.match(
      r.out,
      /error: model mlp-bn-dropout-seed0 \(.*\): training diverged: the median loss over the last 20 steps/,
    );
    const written = await files(out);
    assert.ok(!written.some((f) => /^(report|results|models|steps)/.test(f)), `${written}`);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
