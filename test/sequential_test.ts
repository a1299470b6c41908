import assert from "node:assert/strict";
import type { ForwardContext } from "../src/nn/layer.ts";
import { softmaxCrossEntropy, softmaxCrossEntropyBackward } from "../src/nn/loss.ts";
import { cnn, mlp, type ModelConfig } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { readTensors, Tensor } from "../src/tensor.ts";
import { assertClose, gpuTest, randomArray } from "./helpers.ts";
import fixtures from "./fixtures/models.json" with { type: "json" };

type Case = (typeof fixtures.cases)[number];

function configOf(c: Case): ModelConfig {
  const k = c.config;
  return k.kind === "mlp"
    ? mlp({ inputShape: k.inputShape, hidden: k.hidden, layers: k.layers, batchNorm: k.batchNorm })
    : cnn({
      inputShape: k.inputShape,
      channels: k.channels,
      convLayers: k.convLayers,
      headChannels: k.headChannels,
      batchNorm: k.batchNorm,
    });
}

// PyTorch ran in float64, the engine in float32 through about ten layers with batch norm
// (which divides by batch standard deviations): relative errors of a few 1e-6 are expected,
// so 1e-4 of each tensor's largest magnitude leaves margin while any indexing or formula error
// (errors of order one) fails.
function closeTo(got: ArrayLike<number>, want: number[], what: string): void {
  const scale = Math.max(...want.map(Math.abs), 1e-3);
  assertClose(got, want, { atol: 1e-4 * scale }, what);
}

for (const c of fixtures.cases) {
  gpuTest(
    `${c.name}: forward, loss, backward and running statistics match PyTorch`,
    async (gpu) => {
      const model = new Sequential(gpu, configOf(c));
      assert.equal(model.params.entries.length, c.params.length);
      model.params.entries.forEach((e, i) =>
        gpu.write(e.binding.value, Float32Array.from(c.params[i]))
      );
      const batch = c.labels.length;
      const x = Tensor.from(gpu, Float32Array.from(c.x), [1, batch, ...c.config.inputShape]);
      const labels = Tensor.from(gpu, Uint32Array.from(c.labels));
      const ctx: ForwardContext = { gpu, training: true, seed: 0, step: 0 };
      const logits = model.forward(ctx, x);
      const { losses, mean } = softmaxCrossEntropy(logits, labels);
      const dlogits = softmaxCrossEntropyBackward(logits, labels);
      const [lv, sv, mv] = await readTensors([logits, losses, mean]);
      model.backward(ctx, dlogits);
      closeTo(lv, c.logits, "logits");
      closeTo(sv, c.losses, "per-sample losses");
      closeTo(mv, [c.loss], "mean loss");
      const trainable = model.params.entries.filter((e) => e.spec.kind !== "running");
      const grads = await readTensors(trainable.map((e) => e.binding.grad!));
      grads.forEach((g, i) => closeTo(g, c.grads[i], `gradient of ${trainable[i].key}`));
      const running = model.params.entries.filter((e) => e.spec.kind === "running");
      const stats = await readTensors(running.map((e) => e.binding.value));
      stats.forEach((s, i) => closeTo(s, c.stats[i], running[i].key));
      const evalLogits = model.forward({ ...ctx, training: false }, x);
      closeTo(await evalLogits.read(), c.evalLogits, "eval logits");
      for (const t of [x, labels, logits, losses, mean, dlogits, evalLogits]) t.dispose();
      model.dispose();
    },
  );
}

const paperModels: [string, ModelConfig][] = [
  [
    "4x128 MLP with batch norm and dropout",
    mlp({ inputShape: [1, 28, 28], batchNorm: true, dropout: 0.05 }),
  ],
  ["4-layer 64-channel CNN with batch norm", cnn({ inputShape: [1, 28, 28], batchNorm: true })],
];

for (const [name, config] of paperModels) {
  gpuTest(`the paper's ${name} runs forward and backward on a batch of 64`, async (gpu) => {
    const model = new Sequential(gpu, config);
    model.initialize(3);
    const x = Tensor.from(gpu, randomArray(64 * 784, 5), [1, 64, 1, 28, 28]);
    const labels = Tensor.from(gpu, Uint32Array.from({ length: 64 }, (_, i) => i % 10));
    const ctx: ForwardContext = { gpu, training: true, seed: 1, step: 0 };
    const logits = model.forward(ctx, x);
    const { losses, mean } = softmaxCrossEntropy(logits, labels);
    model.backward(ctx, softmaxCrossEntropyBackward(logits, labels));
    const [l, loss, grads] = await readTensors([logits, mean, model.params.grads]);
    assert.deepEqual(logits.shape, [1, 64, 10]);
    assert.ok(l.every(Number.isFinite), "logits are finite");
    // At initialisation the 10-class loss is near ln 10 = 2.30.
    assert.ok(loss[0] > 1.5 && loss[0] < 3.5, `initial loss ${loss[0]}`);
    assert.ok(grads.every(Number.isFinite), "gradients are finite");
    const trainable = model.params.entries.filter((e) => e.spec.kind !== "running");
    for (const e of trainable) {
      const g = grads.subarray(e.binding.offset, e.binding.offset + e.binding.value.size);
      assert.ok(g.some((v) => v !== 0), `gradient of ${e.key} is not all zero`);
    }
    for (const t of [x, labels, logits, losses, mean]) t.dispose();
    model.dispose();
  });
}
