/**
 * The library refuses misuse with an error that names what is wrong: use after dispose (of a
 * Tensor, a Sequential, a Gpu), and a model that does not fit its data or was never given
 * parameters.
 */
import assert from "node:assert/strict";
import { DisposedError } from "../src/gpu/disposed.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { synthetic } from "../src/data/synthetic.ts";
import { cnn, mlp } from "../src/nn/model_config.ts";
import { ModelDataError } from "../src/nn/fits.ts";
import { estimateDelta } from "../src/landscape/estimate.ts";
import { lossSurface } from "../src/landscape/grid.ts";
import { landscapeWidth } from "../src/landscape/width.ts";
import { Curvature } from "../src/landscape/hessian.ts";
import { checkpointBytes, checkpointFromBytes } from "../src/train/checkpoint.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { scale } from "../src/ops/elementwise.ts";
import { Tensor } from "../src/tensor.ts";
import { quietSink } from "../src/train/progress.ts";
import { evaluate, train } from "../src/train/trainer.ts";
import { sampleLosses } from "../src/train/sample_losses.ts";
import { gpuTest } from "./helpers.ts";

const disposed = (what: RegExp) => (e: unknown) =>
  e instanceof DisposedError && what.test(e.message) && !/\n/.test(e.message);

gpuTest("a disposed tensor, or a view of one, throws on every use", async (gpu) => {
  const t = Tensor.from(gpu, [1, 2, 3]);
  const view = t.view([2], 1);
  t.dispose();
  // The pool hands the storage to the next tensor of that size: reading t would show its data.
  const other = Tensor.from(gpu, [7, 8, 9]);
  await assert.rejects(() => t.read(), disposed(/^Tensor \[3\] f32 was used after dispose\(\)/));
  await assert.rejects(() => view.read(), disposed(/^Tensor \[2\] f32 \(a view\) was used after/));
  assert.throws(() => scale(t, 2), disposed(/Tensor \[3\] f32/));
  assert.throws(() => t.reshape([3, 1]), disposed(/Tensor \[3\] f32/));
  assert.throws(() => gpu.copy(other, t), disposed(/Tensor \[3\] f32/));
  t.dispose(); // twice is harmless
  assert.deepEqual([...await other.read()], [7, 8, 9]);
  let kept: Tensor;
  {
    using u = Tensor.zeros(gpu, [4]);
    kept = u;
    assert.equal(kept.disposed, false);
  }
  assert.equal(kept.disposed, true);
  other.dispose();
});

gpuTest("a disposed Sequential throws an error naming it", async (gpu) => {
  const data = synthetic({ samples: 64, shape: [1, 4, 4], seed: 1 });
  const model = new Sequential(gpu, mlp({ inputShape: [1, 4, 4], hidden: 8, layers: 1 }));
  model.initialize(1);
  model.dispose();
  const named = disposed(/^Sequential "mlp" was used after dispose\(\); build a new one/);
  await assert.rejects(
    () => train(model, data, { epochs: 1, batchSize: 16, progress: quietSink }),
    named,
  );
  await assert.rejects(() => evaluate(model, data), named);
  assert.throws(() => model.initialize(2), named);
  model.dispose(); // twice is harmless
  let kept: Sequential;
  {
    using m = new Sequential(gpu, mlp({ inputShape: [1, 4, 4], hidden: 8, layers: 1 }));
    kept = m;
  }
  assert.throws(() => kept.params, named);
});

Deno.test({
  name: "a destroyed Gpu throws an error naming it; tensors of it can still be disposed",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const gpu = await Gpu.create();
    const t = Tensor.from(gpu, [1, 2, 3]);
    gpu.destroy();
    const named = disposed(/^Gpu \(.+\) was used after destroy\(\); create another/);
    assert.throws(() => Tensor.zeros(gpu, [4]), named);
    await assert.rejects(() => t.read(), named);
    assert.throws(() => scale(t, 2), named);
    await assert.rejects(() => gpu.flush(), named);
    t.dispose();
    gpu.destroy(); // twice is harmless
    let kept: Gpu;
    {
      using g = await Gpu.create();
      kept = g;
    }
    assert.throws(() => Tensor.zeros(kept, [4]), named);
  },
});

const mismatch = (what: RegExp) => (e: unknown) =>
  e instanceof ModelDataError && what.test(e.message) && !/\n/.test(e.message);

gpuTest(
  "train, evaluate and the estimators refuse a model whose class count or input shape does not fit the data",
  async (gpu) => {
    const data = synthetic({ samples: 64, shape: [1, 4, 4], seed: 1 }); // 10 classes
    const delta = { sigma: 0.01, points: 4, samples: 8, seed: 1 };
    const evalData = { dataset: data, loss: "cross-entropy" as const };
    const fiveClasses = new Sequential(gpu, mlp({ inputShape: [1, 4, 4], hidden: 8, classes: 5 }));
    fiveClasses.initialize(1);
    const classes = mismatch(
      /^model "mlp" has 5 outputs but synthetic\/0 has 10 classes; build it with classes: 10$/,
    );
    await assert.rejects(
      () => train(fiveClasses, data, { epochs: 1, batchSize: 16, progress: quietSink }),
      classes,
    );
    await assert.rejects(() => evaluate(fiveClasses, data), classes);
    await assert.rejects(() => sampleLosses(fiveClasses, data), classes);
    await assert.rejects(() => estimateDelta(fiveClasses, data, delta), classes);
    await assert.rejects(
      () => lossSurface(fiveClasses, evalData, { resolution: 3, seed: 1 }),
      classes,
    );
    await assert.rejects(() => landscapeWidth(fiveClasses, evalData, { seed: 1 }), classes);
    fiveClasses.dispose();

    const wrongInput = new Sequential(
      gpu,
      cnn({ inputShape: [3, 4, 4], channels: 2, convLayers: 1 }),
    );
    wrongInput.initialize(1);
    const input = mismatch(
      /^model "cnn" takes inputs \[3,4,4\] but synthetic\/0 has samples \[1,4,4\]; build it with inputShape \[1,4,4\]$/,
    );
    await assert.rejects(
      () => train(wrongInput, data, { epochs: 1, batchSize: 16, progress: quietSink }),
      input,
    );
    await assert.rejects(() => estimateDelta(wrongInput, data, delta), input);
    wrongInput.dispose();
  },
);

gpuTest("the estimators refuse a model that was never initialised or loaded", async (gpu) => {
  const data = synthetic({ samples: 64, shape: [1, 4, 4], seed: 1 });
  const config = mlp({ inputShape: [1, 4, 4], hidden: 8, layers: 1 });
  const delta = { sigma: 0.01, points: 4, samples: 8, seed: 1 };
  using model = new Sequential(gpu, config);
  const never = mismatch(
    /^model "mlp" has no parameters yet \(never initialised or loaded\): call model\.initialize/,
  );
  await assert.rejects(() => estimateDelta(model, data, delta), never);
  await assert.rejects(() => estimateDelta(model, data, { ...delta, mode: "subspace" }), never);
  await assert.rejects(
    () => lossSurface(model, { dataset: data, loss: "cross-entropy" }, { resolution: 3, seed: 1 }),
    never,
  );
  await assert.rejects(() => Curvature.create(model), never);
  // Initialised, loaded from a checkpoint, or written directly: accepted.
  model.initialize(3);
  const curve = await estimateDelta(model, data, delta);
  assert.ok(curve.delta.every((d) => Number.isFinite(d) && d > 0));
  using loaded = checkpointFromBytes(gpu, "m", await checkpointBytes(model)).model;
  assert.deepEqual((await estimateDelta(loaded, data, delta)).delta, curve.delta);
  using written = new Sequential(gpu, config);
  gpu.write(written.params.values, await model.params.values.read());
  assert.deepEqual((await estimateDelta(written, data, delta)).delta, curve.delta);
});
