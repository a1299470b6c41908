/** The equal-accuracy arithmetic of bench:compare's delta_se rows (no GPU). */
import assert from "node:assert/strict";
import {
  lossDifferences,
  pointsNeeded,
  targetStandardError,
  timeToStandardError,
} from "../bench/equal_accuracy.ts";
import { curveFromDifferences } from "../src/landscape/delta.ts";
import { PhiloxStream } from "../src/rng/philox.ts";

Deno.test("loss differences: L_{k+1} - L_k of each row, by hand", () => {
  // Row 0: losses 1, 3, 2 -> means 1, 2, 2 -> differences 1, 0.
  // Row 1: losses 4, 0, 8 -> means 4, 2, 4 -> differences -2, 2.
  const d = lossDifferences([1, 3, 2, 4, 0, 8], 2, 3);
  assert.deepEqual([...d], [1, 0, -2, 2]);
  assert.throws(() => lossDifferences([1, 2, 3], 2, 3), /3 values, not 2 x 3/);
  assert.throws(() => lossDifferences([1], 1, 1), /at least 2 losses/);
});

Deno.test("points needed and time to a standard error: known answers", () => {
  // 256 points gave SE 0.2; SE 0.1 needs 4x the points.
  assert.equal(pointsNeeded(256, 0.2, 0.1), 1024);
  // A target above the pilot's SE needs fewer points than the pilot.
  assert.equal(pointsNeeded(100, 1, 2), 25);
  assert.equal(timeToStandardError(1.5, 256, 0.2, 0.1), 1536);
  assert.equal(pointsNeeded(256, 0.2, 0), Infinity);
  assert.equal(pointsNeeded(256, 0.2, NaN), Infinity);
});

Deno.test("the target is a fraction of the inverse-variance weighted mean of the estimates", () => {
  // Weights 1/0.01 and 1/0.04: (100 * 2 + 25 * 4) / 125 = 2.4.
  assert.ok(
    Math.abs(targetStandardError([{ value: 2, se: 0.1 }, { value: 4, se: 0.2 }], 0.1) - 0.24) <
      1e-12,
  );
  // A negative landscape estimate sets the bar by its magnitude; an SE of 0 carries no weight.
  assert.ok(
    Math.abs(targetStandardError([{ value: -3, se: 1 }, { value: 5, se: 0 }], 0.5) - 1.5) < 1e-12,
  );
  assert.ok(Number.isNaN(targetStandardError([], 0.1)));
});

Deno.test("points needed from a pilot gives the target standard error when run (40 runs)", () => {
  // Losses with a per-point level: the landscape term's SE falls as 1/sqrt(points), so a run of
  // pointsNeeded points must land on the target on average.
  const rng = new PhiloxStream(5, 0);
  const normal = () => Math.sqrt(-2 * Math.log(rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const n = 11;
  const center = lossDifferences(Array.from({ length: n }, (_, i) => 1 + 0.1 * Math.sin(i)), 1, n);
  const run = (points: number) => {
    const losses = new Float64Array(points * n);
    for (let t = 0; t < points; t++) {
      const shift = 0.05 * normal();
      for (let i = 0; i < n; i++) losses[t * n + i] = 1 + 0.1 * Math.sin(i) + shift * i / n;
    }
    const c = curveFromDifferences(lossDifferences(losses, points, n), points, { center });
    return c.terms!.landscapeSe[n - 3];
  };
  const pilot = run(64), target = pilot / 3;
  const needed = Math.round(pointsNeeded(64, pilot, target));
  assert.equal(needed, 576);
  const ses = Array.from({ length: 40 }, () => run(needed));
  const meanSe = ses.reduce((a, b) => a + b, 0) / ses.length;
  // The pilot's own SE is off by about 1/sqrt(2 * 64) = 9%; allow three times that.
  assert.ok(
    Math.abs(meanSe / target - 1) < 0.27,
    `SE ${meanSe} at ${needed} points, target ${target}`,
  );
});
