/**
 * Non-finite numbers are errors, never results: the estimators refuse NaN or infinite losses,
 * naming the quantity, the points and the cause (broken weights or a perturbation too large).
 */
import assert from "node:assert/strict";
import { synthetic } from "../src/data/synthetic.ts";
import { curveFromDifferences } from "../src/landscape/delta.ts";
import { estimateDelta } from "../src/landscape/estimate.ts";
import { NonFiniteError, requireFinite } from "../src/landscape/finite.ts";
import { integrandMaps, lossSurface, surfaceFromMeans } from "../src/landscape/grid.ts";
import { landscapeWidth, widthFromCurve } from "../src/landscape/width.ts";
import { mlp } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import type { Gpu } from "../src/gpu/gpu.ts";
import { gpuTest } from "./helpers.ts";

const data = synthetic({ samples: 64, seed: 3 });
const evalData = { dataset: data, loss: "cross-entropy" as const };

function model(gpu: Gpu): Sequential {
  const m = new Sequential(gpu, mlp({ inputShape: [1, 8, 8], hidden: 8, layers: 1 }));
  m.initialize(1);
  return m;
}

/** Asserts `fn` rejects with a NonFiniteError whose message matches `pattern`. */
async function refuses(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof NonFiniteError, `${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("requireFinite names the quantity, the first rows, the count and the cause", () => {
  requireFinite([1, 2, 3], { quantity: "x", unit: "point", where: String, cause: "c" });
  const values = [0, 0, NaN, 0, 0, Infinity, 0, 0, 0, NaN, NaN, 0, 0, 0, -Infinity, NaN];
  assert.throws(
    () =>
      requireFinite(values, {
        quantity: "the loss",
        unit: "point",
        rowLength: 2,
        where: (r, c) => `point ${r} column ${c}`,
        cause: "sigma too large",
      }),
    (e: unknown) => {
      assert.ok(e instanceof NonFiniteError);
      assert.deepEqual(e.rows, [1, 2, 4, 5, 7]);
      assert.equal(e.total, 8);
      assert.equal(
        e.message,
        "the loss is not finite at 5 of 8 points (point 1 column 0: NaN; point 2 column 1: " +
          "Infinity; point 4 column 1: NaN, and 2 more): sigma too large",
      );
      return true;
    },
  );
});

Deno.test("curves, grids and widths are never built from non-finite losses", () => {
  const d = new Float32Array(3 * 4);
  d[2 * 4 + 1] = NaN;
  assert.throws(() => curveFromDifferences(d, 3), /point 2 from k = 3: NaN/);
  const means = new Float32Array(9).fill(1);
  means[4] = Infinity;
  assert.throws(
    () => surfaceFromMeans(means, { resolution: 3, range: [-1, 1], seed: 0 }),
    /mean loss is not finite at 1 of 9 grid points \(\(a, b\) = \(0, 0\): Infinity\)/,
  );
  const probes = new Float32Array(1 + 2 * 2).fill(1);
  probes[0] = NaN;
  assert.throws(
    () => widthFromCurve(probes, { directions: 1, steps: 2, seed: 0 }),
    /width probes' mean loss is not finite at 1 of 5 probe points \(w\*: NaN\)/,
  );
});

gpuTest(
  "a model with NaN weights is refused by every estimator, naming its weights",
  async (gpu) => {
    const m = model(gpu);
    const first = m.params.entries[0].binding.value;
    const weights = await first.read();
    weights[0] = NaN;
    weights[1] = Infinity;
    gpu.write(first, weights);
    const broken = /the model has 2 non-finite parameters/;
    await refuses(
      () => estimateDelta(m, data, { sigma: 0.01, points: 4, samples: 20, seed: 0 }),
      /loss difference L_k - L_\{k-1\} is not finite at 4 of 4 Monte-Carlo points .*non-finite parameters/,
    );
    await refuses(
      () =>
        estimateDelta(m, data, { sigma: 0.01, points: 4, samples: 20, seed: 0, mode: "subspace" }),
      broken,
    );
    await refuses(
      () => lossSurface(m, evalData, { resolution: 3, seed: 1 }),
      /landscape's mean loss is not finite at 9 of 9 grid points .*non-finite parameters/,
    );
    await refuses(
      () => landscapeWidth(m, evalData, { directions: 1, steps: 2, seed: 1 }),
      /width probes' mean loss is not finite at 5 of 5 probe points \(w\*: NaN;.*non-finite par/,
    );
    await refuses(
      () => integrandMaps(m, evalData, [1, 2], 0.5, { resolution: 3, seed: 1 }),
      broken,
    );
    m.dispose();
  },
);

gpuTest("a perturbation too large for float32 is named as the cause", async (gpu) => {
  const m = model(gpu);
  await refuses(
    () => estimateDelta(m, data, { sigma: 1e30, points: 3, samples: 20, seed: 0 }),
    /not finite at 3 of 3 Monte-Carlo points \(point 0 from k = 2: NaN.*sigma 1e\+30 moves the weights so far from w\* that the loss overflows float32; use a smaller sigma/,
  );
  await refuses(
    () => lossSurface(m, evalData, { resolution: 3, range: [-1e30, 1e30], seed: 1 }),
    /\(a, b\) = \(-1e\+30, -1e\+30\): NaN.*range \[-1e\+30, 1e\+30\] moves the weights/,
  );
  // The same model at a sane sigma gives a finite curve: the check does not fire on results.
  const curve = await estimateDelta(m, data, { sigma: 0.01, points: 3, samples: 20, seed: 0 });
  assert.ok(curve.delta.every(Number.isFinite));
  m.dispose();
});
