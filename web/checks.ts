/**
 * Kernel checks the page runs on the browser's adapter: the engine's results against the
 * float64 CPU references of the test suite, with the same error bounds (see the comments in
 * test/dense_test.ts, test/conv2d_test.ts, test/random_test.ts and test/scan_test.ts), on both
 * GEMM cores.
 * @module
 */
import { type Gpu, Tensor } from "../mod.ts";
import {
  Conv2d,
  cumsum,
  Dense,
  type ForwardContext,
  type GemmVariant,
  normal,
  RNG_DOMAIN,
  setGemmVariant,
} from "../kernels.ts";
import { assertClose, type Closeness, EPS32, randomArray, sumBound } from "../test/helpers.ts";
import { activation, setupLayer } from "../test/layers.ts";
import { convDepths, convForward, type ConvGeometry } from "../test/reference/conv2d.ts";
import { denseForward } from "../test/reference/dense.ts";
import { normalBound, normalRef } from "../test/reference/random.ts";
import { cumsumRef, scanDepth } from "../test/reference/reduce.ts";

/** One check's outcome. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** The failure, naming the worst element and its bound. */
  error?: string;
  /** On success, the element closest to its bound: its observed |error| and the bound. */
  closest?: Closeness;
  milliseconds: number;
}

type Check = { name: string; run: (gpu: Gpu) => Promise<Closeness> };

function withCore(variant: GemmVariant, check: Check): Check {
  return {
    name: `${check.name} (${variant} core)`,
    run: async (gpu) => {
      setGemmVariant(gpu, variant);
      try {
        return await check.run(gpu);
      } finally {
        setGemmVariant(gpu, undefined);
      }
    },
  };
}

const normals: Check = {
  name: "Philox Gaussian fill, 100,003 values",
  run: async (gpu) => {
    const n = 100_003;
    const t = normal(gpu, [n], { seed: 42, stream: 1 });
    const got = await t.read();
    t.dispose();
    const ref = normalRef(n, 42, 1, RNG_DOMAIN.fill);
    return assertClose(got, ref.values, { bound: (i) => normalBound(ref.radius[i]) }, "normal");
  },
};

const scan: Check = {
  name: "inclusive prefix sum, 70,001 values",
  run: async (gpu) => {
    const xs = randomArray(70_001, 9, -1, 1.5);
    const x = Tensor.from(gpu, xs);
    const y = cumsum(x);
    const got = await y.read();
    x.dispose();
    y.dispose();
    const abs = cumsumRef(Float64Array.from(xs, Math.abs), 1), k = scanDepth(xs.length) * EPS32;
    return assertClose(got, cumsumRef(xs, 1), { bound: (i) => k * abs[i] }, "cumsum");
  },
};

const dense: Check = {
  name: "dense 65x70 -> 67 forward",
  run: async (gpu) => {
    const [batch, inF, outF] = [65, 70, 67];
    const layer = new Dense(inF, outF);
    const { store, values } = setupLayer(gpu, layer, [inF], { seed: 3 });
    const xs = randomArray(batch * inF, 11, -1, 1);
    const ctx: ForwardContext = { gpu, training: false, seed: 0, step: 0 };
    const x = activation(gpu, xs, batch, [inF]);
    const y = layer.forward(ctx, x);
    const got = await y.read();
    const ref = denseForward(xs, values.weight, values.bias, batch, inF, outF);
    for (const t of [x, y, store]) t.dispose();
    return assertClose(got, ref.y, { bound: sumBound(inF + 1, ref.scale) }, "y");
  },
};

const conv: Check = {
  name: "conv2d 2x3x16x16 -> 5, 3x3, stride 2, pad 1, forward",
  run: async (gpu) => {
    const g: ConvGeometry = {
      batch: 2,
      inC: 3,
      inH: 16,
      inW: 16,
      outC: 5,
      k: 3,
      stride: 2,
      pad: 1,
    };
    const layer = new Conv2d(g.inC, g.outC, g.k, { stride: g.stride, padding: g.pad });
    const { store, values } = setupLayer(gpu, layer, [g.inC, g.inH, g.inW], { seed: 5 });
    const xs = randomArray(g.batch * g.inC * g.inH * g.inW, 13, -1, 1);
    const ctx: ForwardContext = { gpu, training: false, seed: 0, step: 0 };
    const x = activation(gpu, xs, g.batch, [g.inC, g.inH, g.inW]);
    const y = layer.forward(ctx, x);
    const got = await y.read();
    const ref = convForward(g, xs, values.weight, values.bias);
    for (const t of [x, y, store]) t.dispose();
    return assertClose(got, ref.y, { bound: sumBound(convDepths(g).forward, ref.scale) }, "y");
  },
};

/** The checks, in order. */
export const CHECKS: readonly Check[] = [
  normals,
  scan,
  ...(["tiled", "register"] as const).flatMap((v) => [withCore(v, dense), withCore(v, conv)]),
];

/** Runs every check, reporting each as it finishes. */
export async function runChecks(
  gpu: Gpu,
  onResult: (r: CheckResult) => void = () => {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of CHECKS) {
    const t0 = performance.now();
    let error: string | undefined, closest: Closeness | undefined;
    try {
      closest = await check.run(gpu);
    } catch (e) {
      error = (e as Error).message;
    }
    const r = {
      name: check.name,
      ok: !error,
      error,
      closest,
      milliseconds: performance.now() - t0,
    };
    results.push(r);
    onResult(r);
  }
  return results;
}
