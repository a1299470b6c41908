import assert from "node:assert/strict";
import { type Dataset, head, holdOut } from "../src/data/dataset.ts";
import { EMBEDDED_FASHION_MNIST, loadFashionMnist } from "../src/data/fashion_mnist_files.ts";
import { synthetic } from "../src/data/synthetic.ts";
import { cnn, mlp, type ModelConfig } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { Progress, quietSink } from "../src/train/progress.ts";
import { DivergenceError, evaluate, train } from "../src/train/trainer.ts";
import { readTensors } from "../src/tensor.ts";
import { gpuTest } from "./helpers.ts";
import fixtures from "./fixtures/adam20.json" with { type: "json" };

/** bound * (2u - 1), u = ((i + salt) * 2654435761 mod 2^32) / 2^32, as adam20.py computes it. */
function hashed(n: number, salt: number, bound: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => {
    const u = (Math.imul(i + salt, 2654435761 | 0) >>> 0) / 2 ** 32;
    return bound * (2 * u - 1);
  });
}

/** Dense and conv parameters from the hash (BatchNorm keeps 1 and 0), as the fixture did. */
function setHashedWeights(model: Sequential): void {
  model.initialize(0);
  const trainable = model.params.entries.filter((e) => e.spec.kind !== "running");
  trainable.forEach((e, t) => {
    if (e.spec.kind === "norm") return;
    const weight = e.spec.kind === "weight" ? e : trainable[t - 1];
    const fanIn = weight.spec.shape.slice(1).reduce((a, b) => a * b, 1);
    model.gpu.write(e.binding.value, hashed(e.binding.value.size, 7919 * t, 1 / Math.sqrt(fanIn)));
  });
}

/** 2x2 average pooling of [1, 28, 28] images to [1, 14, 14]. */
function pool14(d: Dataset): Dataset {
  const n = d.labels.length;
  const images = new Float32Array(n * 196);
  for (let s = 0; s < n; s++) {
    for (let y = 0; y < 14; y++) {
      for (let x = 0; x < 14; x++) {
        const at = (yy: number, xx: number) => d.images[s * 784 + yy * 28 + xx];
        images[s * 196 + y * 14 + x] =
          (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) +
            at(2 * y + 1, 2 * x + 1)) / 4;
      }
    }
  }
  return { ...d, shape: [1, 14, 14], images };
}

const CONFIGS: Record<string, ModelConfig> = {
  mlp: mlp({ inputShape: [1, 28, 28], batchNorm: true }),
  cnn: cnn({ inputShape: [1, 14, 14], batchNorm: true }),
};

for (const c of fixtures.cases) {
  gpuTest(
    `the first 20 Adam steps of the paper's ${c.name} follow PyTorch (float64)`,
    async (gpu) => {
      const { train: all } = await loadFashionMnist(EMBEDDED_FASHION_MNIST);
      const data = c.name === "mlp" ? head(all, 20 * c.batch) : pool14(head(all, 20 * c.batch));
      const model = new Sequential(gpu, CONFIGS[c.name]);
      setHashedWeights(model);
      const result = await train(model, data, {
        epochs: 1,
        batchSize: c.batch,
        adam: { lr: 1e-3 },
        shuffle: false,
        keepParameters: true,
        readEvery: 20,
        progress: quietSink,
      });
      // The engine computes in float32 and PyTorch here in float64. Rounding differences of
      // about 1e-6 relative grow through 20 Adam steps (Adam's step size does not shrink with
      // the gradient, so small differences in near-zero gradients move weights by up to lr).
      // The MLP's losses agree to about 1e-4 relative. The CNN's trajectory is chaotic: a
      // pre-activation within rounding of zero flips its ReLU with the summation order (any
      // float32 order, against float64), which moves that step's gradients by about 1e-3,
      // and the difference grows by about 3x per step; equally valid orders of the batch-norm
      // sums measured up to 1e-3 over the first 4 steps and 3e-2 over 20. So the CNN is held
      // to 2e-3 for 4 steps and 5e-2 after. A wrong gradient, a wrong Adam formula or a wrong
      // batch changes losses in the first or second decimal within the first steps.
      const losses = Array.from(result.stepLosses);
      assert.equal(losses.length, 20);
      const chaotic = c.name === "cnn";
      losses.forEach((l, i) => {
        const tolerance = chaotic && i >= 4 ? 5e-2 : 2e-3;
        assert.ok(
          Math.abs(l - c.losses[i]) <= tolerance * Math.abs(c.losses[i]),
          `step ${i + 1}: loss ${l}, PyTorch ${c.losses[i]}`,
        );
      });
      // Parameters: compare how far each moved from its start (first 64 values of every tensor).
      // Where a gradient is within rounding of zero, float32 and float64 can take Adam steps of
      // opposite sign, so single weights may differ by up to the whole movement; over all
      // tensors the MLP's movements agree to about 1e-4 (measured); 1% leaves margin. The CNN's
      // chaotic trajectory (above) measured up to 4% with valid summation orders; 10% there.
      // A wrong update rule, gradient or batch gives errors of order one.
      const initial = new Sequential(gpu, CONFIGS[c.name]);
      setHashedWeights(initial);
      const [start, end] = await Promise.all([
        readTensors(initial.params.entries.map((e) => e.binding.value)),
        readTensors(model.params.entries.map((e) => e.binding.value)),
      ]);
      let diff = 0, norm = 0;
      model.params.entries.forEach((e, i) => {
        const want = (c.head as unknown as Record<string, number[]>)[e.key];
        want.forEach((w, j) => {
          const moved = w - start[i][j];
          diff += (end[i][j] - start[i][j] - moved) ** 2;
          norm += moved ** 2;
        });
      });
      const relative = Math.sqrt(diff / norm);
      assert.ok(
        relative < (chaotic ? 0.1 : 0.01),
        `parameter movement differs from PyTorch by ${(100 * relative).toFixed(2)}%`,
      );
      initial.dispose();
      model.dispose();
    },
  );
}

gpuTest("training learns, keeps the best validation epoch, and evaluates it", async (gpu) => {
  const all = synthetic({ samples: 1200, noise: 1.0, seed: 4 });
  const { train: data, validation } = holdOut(all, 200, 1);
  const model = new Sequential(
    gpu,
    mlp({ inputShape: [1, 8, 8], hidden: 32, layers: 2, batchNorm: true, dropout: 0.1 }),
  );
  const seen: number[] = [];
  const result = await train(model, data, {
    epochs: 4,
    batchSize: 50,
    adam: { lr: 3e-3 },
    validation,
    seed: 2,
    progress: quietSink,
    onEpoch: (r) => void seen.push(r.epoch),
  });
  assert.deepEqual(seen, [0, 1, 2, 3]);
  assert.equal(result.stepLosses.length, 4 * 20);
  assert.ok(result.epochs[3].trainLoss < result.epochs[0].trainLoss, "loss decreases");
  const best = result.epochs[result.bestEpoch].validation!;
  assert.ok(result.epochs.every((e) => e.validation!.accuracy <= best.accuracy));
  const now = await evaluate(model, validation);
  // The model holds the best epoch's parameters (and running statistics).
  assert.ok(
    Math.abs(now.accuracy - best.accuracy) < 1e-9,
    `accuracy ${now.accuracy} vs best ${best.accuracy}`,
  );
  assert.ok(Math.abs(now.loss - best.loss) < 1e-5, `loss ${now.loss} vs best ${best.loss}`);
  assert.ok(best.accuracy > 0.5, `validation accuracy ${best.accuracy}`);
  model.dispose();
});

gpuTest(
  "training with the same seed gives the same losses; NaN input stops it with a clear error",
  async (gpu) => {
    const data = synthetic({ samples: 300, seed: 1 });
    const config = mlp({ inputShape: [1, 8, 8], hidden: 16, layers: 1, dropout: 0.2 });
    const run = async () => {
      const model = new Sequential(gpu, config);
      const r = await train(model, data, {
        epochs: 2,
        batchSize: 30,
        seed: 7,
        progress: quietSink,
        readEvery: 7,
      });
      model.dispose();
      return r.stepLosses;
    };
    assert.deepEqual(await run(), await run());
    const bad = { ...data, images: data.images.slice() };
    bad.images[5 * 64 + 3] = NaN; // a pixel of sample 5
    const model = new Sequential(gpu, config);
    await assert.rejects(
      () => train(model, bad, { epochs: 1, batchSize: 30, shuffle: false, progress: quietSink }),
      (e: unknown) =>
        e instanceof DivergenceError &&
        /loss NaN at epoch 1, step 1 .*lower the learning rate/.test(e.message),
    );
    model.dispose();
  },
);

Deno.test("progress: a bar with rate and ETA on a terminal, plain lines otherwise", () => {
  let text = "";
  const sink = (isTerminal: boolean) => ({ isTerminal, write: (t: string) => void (text += t) });
  const bar = new Progress("epoch 1/2", 10, "steps", sink(true));
  bar.update(5, "loss 0.5");
  assert.match(
    text,
    // deno-lint-ignore no-control-regex
    /\r\x1b\[2Kepoch 1\/2 \[#{12}-{12}\] 5\/10 steps, [\d.]+\/s, ETA \S+, loss 0.5/,
  );
  text = "";
  const plain = new Progress("epoch 1/2", 10, "steps", sink(false));
  plain.update(3);
  plain.update(10);
  plain.finish("done");
  assert.match(
    text,
    /^epoch 1\/2: 30% \(3\/10 steps, [\d.]+\/s, ETA \S+\)\nepoch 1\/2: done \(\d+s\)\n$/,
  );
});
