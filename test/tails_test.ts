import assert from "node:assert/strict";
import { curveFromDifferences } from "../src/landscape/delta.ts";
import { quietBatchNormUnits, quietUnitsText } from "../src/landscape/quiet_units.ts";
import { heavyTails } from "../src/landscape/tails.ts";
import { mlp } from "../src/nn/model_config.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { PhiloxStream } from "../src/rng/philox.ts";
import { gpuTest } from "./helpers.ts";

/** D [T, m] with D[t, j] = a_j + Gaussian noise of scale `noise`, row `spike` times `factor`. */
function rows(t: number, m: number, a: number, noise: number, spike?: [number, number, number]) {
  const rng = new PhiloxStream(5, 0, 9);
  const d = new Float32Array(t * m);
  for (let i = 0; i < t * m; i++) {
    const g = Math.sqrt(-2 * Math.log(rng.next())) * Math.cos(2 * Math.PI * rng.next());
    d[i] = a + noise * g;
  }
  if (spike) d[spike[0] * m + spike[1]] = a + spike[2];
  return d;
}

Deno.test("heavy tails: one dominant draw is reported with its share, ESS and a warning", () => {
  const t = 64, m = 120, a = 0.1;
  const center = new Float32Array(m).fill(a);
  const calm = curveFromDifferences(rows(t, m, a, 1e-3), t, { center });
  const quiet = heavyTails(calm, { seed: 1 });
  assert.equal(quiet.quantity, "landscape term");
  assert.deepEqual(quiet.at.map((s) => s.k), [11, 101]);
  assert.equal(quiet.warning, null);
  for (const s of quiet.at) {
    assert.ok(s.share.value < 0.15 && s.ess.value > 0.3 * t, JSON.stringify(s));
    assert.ok(s.share.se > 0 && s.ess.se > 0, "bootstrap standard errors");
  }
  // One point at k = 51 moves 300x further than the rest: it carries most of the sum there.
  const spiky = curveFromDifferences(rows(t, m, a, 1e-3, [7, 49, 0.3]), t, { center });
  const loud = heavyTails(spiky, { seed: 1 });
  assert.equal(loud.worst.k, 51);
  assert.ok(loud.worst.dominated && loud.worst.share.value > 0.9, JSON.stringify(loud.worst));
  assert.match(loud.warning!, /at k = 51 the largest of 64 points carries 9\d% of the sum/);
  // Antithetic pairs are the draws; a curve without terms reports on Δ itself.
  const pairs = heavyTails(
    curveFromDifferences(rows(t, m, a, 1e-3, [7, 49, 0.3]), t, { estimator: "antithetic" }),
    { ks: [51], bootstrap: 0 },
  );
  assert.equal(pairs.quantity, "Δ");
  assert.equal(pairs.at[0].draws, 32);
  assert.ok(Number.isNaN(pairs.at[0].share.se));
  assert.throws(() => heavyTails(calm, { ks: [500] }), /k = 500 is not on the curve/);
});

gpuTest("batch-norm units with near-zero running variance are named", async (gpu) => {
  const model = new Sequential(gpu, mlp({ inputShape: [1, 4, 4], hidden: 6, layers: 2 }));
  model.initialize(1);
  assert.deepEqual(await quietBatchNormUnits(model), []);
  model.dispose();
  const bn = new Sequential(
    gpu,
    mlp({ inputShape: [1, 4, 4], hidden: 6, layers: 2, batchNorm: true }),
  );
  bn.initialize(1);
  const vars = bn.params.entries.filter((e) => e.spec.name === "running_var");
  gpu.write(vars[1].binding.value, Float32Array.of(1, 1e-21, 0.5, 0, 2, 1e-13));
  const quiet = await quietBatchNormUnits(bn);
  assert.equal(quiet.length, 1);
  assert.equal(quiet[0].key, vars[1].key);
  assert.deepEqual(quiet[0].units, [1, 3, 5]);
  assert.ok(Math.abs(quiet[0].gain - 316.2) < 0.1);
  assert.match(
    quietUnitsText(quiet)!,
    new RegExp(`layer ${quiet[0].layer} units 1, 3, 5 of 6; .* amplified about 316x`),
  );
  bn.dispose();
});
