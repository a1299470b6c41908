/**
 * Verdicts from replicated models: synthetic widths with two levels of noise (between seeds,
 * and between the rays of one seed) and a known effect.
 */
import assert from "node:assert/strict";
import {
  compareSeeds,
  jointVerdict,
  type SeedValue,
  summarizeSeeds,
} from "../src/experiments/compare.ts";
import { studentCdf, studentQuantile } from "../src/experiments/student_t.ts";
import { PhiloxStream } from "../src/rng/philox.ts";

/** Standard normal draws (Box-Muller) from a Philox stream. */
function normals(seed: number): () => number {
  const s = new PhiloxStream(seed, 0);
  return () => Math.sqrt(-2 * Math.log(s.next())) * Math.cos(2 * Math.PI * s.next());
}

/**
 * One model's seed widths: each seed's true width is `mean` plus between-seed noise, measured
 * as the mean over `rays` rays with their own noise.
 */
function seedWidths(
  normal: () => number,
  { mean, seeds, between, rayNoise, rays }: {
    mean: number;
    seeds: number;
    between: number;
    rayNoise: number;
    rays: number;
  },
): SeedValue[] {
  return Array.from({ length: seeds }, () => {
    const center = mean + between * normal();
    const radii = Array.from({ length: rays }, () => center + rayNoise * normal());
    const m = radii.reduce((a, b) => a + b, 0) / rays;
    const sd = Math.sqrt(radii.reduce((a, r) => a + (r - m) ** 2, 0) / (rays - 1));
    return { value: m, se: sd / Math.sqrt(rays) };
  });
}

const NOISE = { seeds: 3, between: 0.05, rayNoise: 0.2, rays: 12 };

Deno.test("Student's t: CDF and quantiles match tabulated values", () => {
  const table: [number, number, number][] = [
    [0.975, 1, 12.7062047],
    [0.975, 2, 4.30265273],
    [0.975, 10, 2.22813885],
    [0.8, 5, 0.91954378],
    [0.95, 30, 1.69726089],
    [0.975, 1e9, 1.95996398],
  ];
  for (const [p, df, t] of table) {
    assert.ok(Math.abs(studentQuantile(p, df) - t) < 1e-6, `t(${p}, ${df})`);
    assert.ok(Math.abs(studentCdf(t, df) - p) < 1e-7, `cdf(${t}, ${df})`);
  }
  assert.ok(Math.abs(studentQuantile(0.025, 3.5) + studentQuantile(0.975, 3.5)) < 1e-9);
  assert.equal(studentCdf(0, 7), 0.5);
});

Deno.test("verdict: a known effect holds, no effect is inconclusive, the reverse is contradicted", () => {
  const normal = normals(11);
  const wide = seedWidths(normal, { mean: 1.0, ...NOISE });
  const narrow = seedWidths(normal, { mean: 0.5, ...NOISE });
  const alsoNarrow = seedWidths(normal, { mean: 0.5, ...NOISE });
  const holds = compareSeeds(wide, narrow);
  assert.equal(holds.verdict, "holds");
  assert.ok(holds.interval[0] > 0 && holds.interval[0] < 0.5 && 0.5 < holds.interval[1]);
  assert.equal(compareSeeds(narrow, wide).verdict, "contradicted");
  assert.notEqual(compareSeeds(narrow, alsoNarrow).verdict, "holds");
  assert.notEqual(compareSeeds(alsoNarrow, narrow).verdict, "holds");
  // Identical models: nothing to see, whatever the direction.
  const same = compareSeeds(narrow, narrow);
  assert.equal(same.verdict, "inconclusive");
  assert.equal(same.effect, 0);
  assert.equal(same.seedsNeeded, Infinity);
  assert.equal(jointVerdict([holds, same]), "inconclusive");
  assert.equal(jointVerdict([holds, holds]), "holds");
  assert.equal(jointVerdict([holds, compareSeeds(narrow, wide)]), "contradicted");
});

Deno.test("verdict: without an effect it says holds at most as often as the CI allows (2.5%)", () => {
  const normal = normals(12);
  // The noise between seeds dominates: rays alone would call many of these "holds".
  const noise = { seeds: 3, between: 0.2, rayNoise: 0.05, rays: 12 };
  let holds = 0, contradicted = 0, raysOnly = 0;
  const trials = 400;
  for (let i = 0; i < trials; i++) {
    const a = seedWidths(normal, { mean: 1, ...noise }),
      b = seedWidths(normal, { mean: 1, ...noise });
    const c = compareSeeds(a, b);
    if (c.verdict === "holds") holds++;
    if (c.verdict === "contradicted") contradicted++;
    if (c.effect > 1.96 * Math.hypot(a[0].se, b[0].se)) raysOnly++;
  }
  assert.ok(holds / trials < 0.05, `holds in ${holds} of ${trials} null comparisons`);
  assert.ok(contradicted / trials < 0.05, `contradicted in ${contradicted} of ${trials}`);
  assert.ok(raysOnly / trials > 0.2, `one seed's rays alone: ${raysOnly} of ${trials}`);
});

Deno.test("verdict: agreeing seeds do not hide the rays' noise", () => {
  // Seeds that agree by chance: their spread alone would make a tiny difference "hold".
  const a = [1.02, 1.02, 1.02].map((value) => ({ value, se: 0.1 }));
  const b = [1.0, 1.0, 1.0].map((value) => ({ value, se: 0.1 }));
  const c = compareSeeds(a, b);
  assert.equal(c.verdict, "inconclusive");
  assert.ok(Math.abs(c.se - Math.sqrt(0.01 / 3 + 0.01 / 3)) < 1e-12);
  const s = summarizeSeeds(a);
  assert.equal(s.between, 0);
  assert.ok(Math.abs(s.within - 0.1) < 1e-12);
});

Deno.test("power line: the smallest detectable effect and the seeds an effect needs", () => {
  // Per-seed variance 0.01 in both models (spread ±0.1, rays' noise below it), effect 0.1.
  const a = [-0.1, 0, 0.1].map((d) => ({ value: 0.6 + d, se: 0.01 }));
  const b = [-0.1, 0, 0.1].map((d) => ({ value: 0.5 + d, se: 0.01 }));
  const c = compareSeeds(a, b);
  assert.ok(Math.abs(c.effect - 0.1) < 1e-12 && Math.abs(c.df - 4) < 1e-9);
  const multiple = (df: number) => studentQuantile(0.975, df) + studentQuantile(0.8, df);
  assert.ok(Math.abs(c.detectable - multiple(4) * Math.sqrt(0.02 / 3)) < 1e-9);
  assert.equal(c.verdict, "inconclusive");
  // The seeds it asks for are the fewest at which the observed effect is detectable.
  const detectable = (n: number) => multiple(2 * n - 2) * Math.sqrt(0.02 / n);
  const n = c.seedsNeeded;
  assert.ok(detectable(n) <= 0.1 && detectable(n - 1) > 0.1, `${n} seeds`);
  assert.ok(n > 3 && n < 64);
  // An effect these seeds can see needs no more of them.
  const big = compareSeeds(a.map((x) => ({ ...x, value: x.value + 1 })), b);
  assert.equal(big.verdict, "holds");
  assert.ok(big.seedsNeeded <= 3 && big.detectable < big.effect);
});

Deno.test("one seed per model gives no verdict, and says why", () => {
  const normal = normals(14);
  const a = seedWidths(normal, { mean: 2, ...NOISE, seeds: 1 });
  const b = seedWidths(normal, { mean: 0.5, ...NOISE, seeds: 1 });
  const c = compareSeeds(a, b);
  assert.equal(c.verdict, "inconclusive");
  assert.match(c.note!, /one seed: the noise between seeds is unmeasured.*--seeds/);
  assert.equal(summarizeSeeds(a).interval, null);
});
