/**
 * Chooses the GEMM core for an adapter by measurement: both cores run the same two products
 * (a dense layer and a 3x3 convolution shaped like the paper's models), alternating, and the
 * core with the smaller summed median wins. Browser-safe (no file system); the CLI caches the
 * choice per adapter description.
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import { Tensor } from "../tensor.ts";
import { Conv2d } from "./conv2d.ts";
import { Dense } from "./dense.ts";
import { type GemmVariant, gemmVariant, setGemmVariant } from "./gemm.ts";
import type { ForwardContext, Layer } from "./layer.ts";
import { ParamStore } from "./param_store.ts";

/** What a tuning run measured. */
export interface GemmTuning {
  /** The adapter it ran on. */
  adapter: string;
  /** The faster core. */
  variant: GemmVariant;
  /** Summed median milliseconds of the probe products, per core. */
  milliseconds: Record<GemmVariant, number>;
  /** Timed repetitions per core. */
  reps: number;
}

/** Options of `tuneGemm`. */
export interface TuneOptions {
  /** Timed repetitions per core (after one untimed round that compiles the pipelines). */
  reps?: number;
  /** Scale of the probes: rows of the dense product and batch of the convolution. */
  size?: number;
}

const VARIANTS: readonly GemmVariant[] = ["tiled", "register"];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Deterministic operand values in [-1, 1). */
function operand(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 2001) / 1000 - 1);
}

/**
 * Times both cores on `gpu` and returns the faster one (also applied with `setGemmVariant`).
 * Takes about a second on a 2-core software adapter.
 */
export async function tuneGemm(gpu: Gpu, options: TuneOptions = {}): Promise<GemmTuning> {
  const reps = options.reps ?? 3, size = options.size ?? 256;
  if (!(Number.isInteger(reps) && reps > 0)) throw new RangeError("reps must be positive");
  const dense = new Dense(512, 512), conv = new Conv2d(64, 64, 3, { padding: 1 });
  const layers: Layer[] = [dense, conv];
  const store = ParamStore.create(gpu, [dense.paramSpecs(), conv.paramSpecs()]);
  layers.forEach((l, i) => l.bind(store.bindingsOf(i)));
  store.initialize(1);
  const xDense = Tensor.from(gpu, operand(size * 512), [1, size, 512]);
  const convBatch = Math.max(1, size >> 5);
  const xConv = Tensor.from(gpu, operand(convBatch * 64 * 28 * 28), [1, convBatch, 64, 28, 28]);
  const ctx: ForwardContext = { gpu, training: false, seed: 0, step: 0 };
  const before = gemmVariant(gpu);
  const times: Record<GemmVariant, number[]> = { tiled: [], register: [] };
  try {
    for (let r = 0; r <= reps; r++) {
      for (const variant of VARIANTS) {
        setGemmVariant(gpu, variant);
        await gpu.sync();
        const t0 = performance.now();
        dense.forward(ctx, xDense).dispose();
        conv.forward(ctx, xConv).dispose();
        await gpu.sync();
        if (r > 0) times[variant].push(performance.now() - t0);
      }
    }
  } finally {
    setGemmVariant(gpu, before);
    xDense.dispose();
    xConv.dispose();
    store.dispose();
  }
  const milliseconds = { tiled: median(times.tiled), register: median(times.register) };
  const variant: GemmVariant = milliseconds.register < milliseconds.tiled ? "register" : "tiled";
  setGemmVariant(gpu, variant);
  return { adapter: gpu.adapter, variant, milliseconds, reps };
}
