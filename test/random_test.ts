import assert from "node:assert/strict";
import { wgsl } from "../src/gpu/shader.ts";
import { fillNormal, fillUniform, normal, philoxShader, uniform } from "../src/ops/random.ts";
import { philox4x32, philoxBlock, PhiloxStream, RNG_DOMAIN, unitFloat } from "../src/rng/philox.ts";
import { readTensors, Tensor } from "../src/tensor.ts";
import { assertBitwiseEqual, assertClose, gpuTest } from "./helpers.ts";
import { normalBound, normalRef } from "./reference/random.ts";
import katSource from "./kernels/philox_kat.wgsl" with { type: "text" };

// Random123 known-answer vectors for Philox4x32-10 (kat_vectors in the Random123 sources).
const KAT: { ctr: [number, number, number, number]; key: [number, number]; out: number[] }[] = [
  { ctr: [0, 0, 0, 0], key: [0, 0], out: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
  {
    ctr: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    key: [0xffffffff, 0xffffffff],
    out: [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  },
  {
    ctr: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    key: [0xa4093822, 0x299f31d0],
    out: [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  },
];

Deno.test("CPU Philox4x32-10 reproduces the Random123 known-answer vectors", () => {
  for (const { ctr, key, out } of KAT) assert.deepEqual(philox4x32(ctr, key), out);
});

gpuTest("GPU Philox4x32-10 reproduces the Random123 known-answer vectors", async (gpu) => {
  const shader = wgsl("test/kernels/philox_kat.wgsl", katSource, philoxShader);
  const cases = Tensor.from(gpu, Uint32Array.from(KAT.flatMap((k) => [...k.ctr, ...k.key])));
  const words = Tensor.empty(gpu, [KAT.length * 4], "u32");
  gpu.dispatch({ kernel: { shader, entryPoint: "main" }, bindings: [cases, words], workgroups: 1 });
  assert.deepEqual([...await words.read()], KAT.flatMap((k) => k.out));
  cases.dispose();
  words.dispose();
});

gpuTest("uniform fill equals the CPU generator exactly, values in (0, 1]", async (gpu) => {
  const n = 100_003;
  const t = uniform(gpu, [n], { seed: 2 ** 40 + 17, stream: 3 });
  const got = await t.read();
  const cpu = new PhiloxStream(2 ** 40 + 17, 3, RNG_DOMAIN.fill);
  const ref = Float32Array.from({ length: n }, () => cpu.next());
  assertBitwiseEqual(got, ref, "uniform");
  assert.ok(got.every((v) => v > 0 && v <= 1));
  t.dispose();
});

gpuTest("uniform fill scales to (low, high]", async (gpu) => {
  const t = uniform(gpu, [1000], { seed: 5 }, -2, 3);
  const got = await t.read();
  const ref = Float64Array.from(
    { length: 1000 },
    (_, i) => -2 + 5 * unitFloat(philoxBlock(5, 0, 0, Math.floor(i / 4))[i % 4]),
  );
  assertClose(got, ref, { atol: 5 * 2 ** -23 });
  t.dispose();
});

gpuTest(
  "normal fill: 10^6 draws match Box-Muller in float64 and pass moment and tail checks",
  async (gpu) => {
    const n = 1_000_000;
    const t = normal(gpu, [n], { seed: 42, stream: 1 });
    const got = await t.read();
    const ref = normalRef(n, 42, 1, RNG_DOMAIN.fill);
    const bound = (i: number) => normalBound(ref.radius[i]);
    assertClose(got, ref.values, { bound }, "normal");
    let sum = 0, sq = 0, over3 = 0, over4 = 0;
    for (const v of got) {
      sum += v;
      sq += v * v;
      if (Math.abs(v) > 3) over3++;
      if (Math.abs(v) > 4) over4++;
    }
    const mean = sum / n, variance = sq / n - mean * mean;
    // Five standard errors: mean 1/sqrt(n), variance sqrt(2/n), counts sqrt(n p (1 - p)).
    assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 5 * Math.sqrt(2 / n), `variance ${variance}`);
    const p3 = 0.0026997960632601, p4 = 6.334248366623996e-5;
    assert.ok(
      Math.abs(over3 - n * p3) < 5 * Math.sqrt(n * p3),
      `|x| > 3: ${over3}, expect ${n * p3}`,
    );
    assert.ok(
      Math.abs(over4 - n * p4) < 5 * Math.sqrt(n * p4),
      `|x| > 4: ${over4}, expect ${n * p4}`,
    );
    t.dispose();
  },
);

gpuTest(
  "random fills are identical across runs, workgroup sizes and chunked dispatches",
  async (gpu) => {
    const n = 70_001;
    const key = { seed: 9, stream: 4, domain: RNG_DOMAIN.perturbation };
    const whole = normal(gpu, [n], key, 0.5, 2);
    const again = normal(gpu, [n], key, 0.5, 2);
    const small = normal(gpu, [n], { ...key, workgroupSize: 64 }, 0.5, 2);
    // Chunks that start inside Philox blocks (offsets not multiples of 4), as separate tensors.
    const borders = [[0, 5], [5, 40_002], [40_002, n]];
    const chunks = borders.map(([start, end]) => {
      const t = Tensor.empty(gpu, [end - start]);
      fillNormal(t, { ...key, offset: start }, 0.5, 2);
      return t;
    });
    const u1 = uniform(gpu, [n], key);
    const u2 = [Tensor.empty(gpu, [3]), Tensor.empty(gpu, [n - 3])];
    fillUniform(u2[0], key);
    fillUniform(u2[1], { ...key, offset: 3 });
    const all = [whole, again, small, u1, ...chunks, ...u2];
    const [a, b, c, e, ...parts] = await readTensors(all);
    const concat = (xs: Float32Array[]) => Float32Array.from(xs.flatMap((x) => [...x]));
    const d = concat(parts.slice(0, 3)), f = concat(parts.slice(3));
    assertBitwiseEqual(b, a, "second run");
    assertBitwiseEqual(c, a, "workgroup size 64");
    assertBitwiseEqual(d, a, "chunked");
    assertBitwiseEqual(f, e, "chunked uniform");
    for (const t of all) t.dispose();
  },
);

Deno.test("different streams and domains give different numbers", () => {
  const a = philoxBlock(1, 0, 0, 0), b = philoxBlock(1, 1, 0, 0), c = philoxBlock(1, 0, 1, 0);
  assert.notDeepEqual(a, b);
  assert.notDeepEqual(a, c);
});

Deno.test("host permutations are reproducible and are permutations", () => {
  const p = new PhiloxStream(3, 0).permutation(1000);
  const q = new PhiloxStream(3, 0).permutation(1000);
  assert.deepEqual(p, q);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual([...p], Array.from({ length: 1000 }, (_, i) => i));
});
