/**
 * The live demo: the paper's MLP (4 x 128, batch norm) trained on the embedded Fashion-MNIST
 * subset and its Δk curve, entirely on the browser's WebGPU adapter.
 * @module
 */
import {
  type DeltaCurve,
  estimateDelta,
  evaluate,
  fitRate,
  type Gpu,
  holdOut,
  mlp,
  type ProgressSink,
  type RateFit,
  select,
  Sequential,
  train,
} from "../mod.ts";
import { FASHION_MNIST_FILES, idxPair } from "../src/formats.ts";

/** Sizes of a demo run. */
export interface DemoSize {
  /** Training images (taken from the embedded subset). */
  trainSamples: number;
  epochs: number;
  /** Δk: Monte-Carlo points and samples n. */
  points: number;
  samples: number;
  sigma: number;
}

/** Quick enough for a software adapter in CI; and a fuller run for a real GPU. */
export const DEMO_SIZES: Record<"quick" | "full", DemoSize> = {
  quick: { trainSamples: 1024, epochs: 1, points: 16, samples: 257, sigma: 0.01 },
  full: { trainSamples: 9000, epochs: 3, points: 64, samples: 2001, sigma: 0.01 },
};

/** What the demo found. */
export interface DemoResult {
  adapter: string;
  testAccuracy: number;
  curve: { k: number[]; delta: number[]; se: number[] };
  fit: { p: number; c: number; interval: [number, number] | null } | null;
  /** Every Δk value is finite. */
  finite: boolean;
  seconds: number;
}

async function fetchBytes(
  base: string,
  file: string,
): Promise<{ name: string; bytes: Uint8Array }> {
  const url = `${base}/${file}`;
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return { name: file, bytes: new Uint8Array(await r.arrayBuffer()) };
}

/** Runs the demo; `say` gets stage names and progress fractions. */
export async function runDemo(
  gpu: Gpu,
  size: DemoSize,
  say: (stage: string, fraction: number) => void,
  dataUrl = "/data/fashion-mnist",
): Promise<DemoResult> {
  const t0 = performance.now();
  say("loading the embedded Fashion-MNIST subset", 0);
  const [trainFiles, testFiles] = [FASHION_MNIST_FILES.train, FASHION_MNIST_FILES.test];
  const all = await idxPair(
    await fetchBytes(dataUrl, trainFiles[0]),
    await fetchBytes(dataUrl, trainFiles[1]),
    "fashion-mnist/train",
  );
  const test = await idxPair(
    await fetchBytes(dataUrl, testFiles[0]),
    await fetchBytes(dataUrl, testFiles[1]),
    "fashion-mnist/test",
  );
  const subset = select(all, Array.from({ length: size.trainSamples }, (_, i) => i));
  const { train: trainData, validation } = holdOut(subset, Math.round(size.trainSamples / 8), 0);
  const model = new Sequential(
    gpu,
    mlp({ inputShape: [1, 28, 28], classes: 10, batchNorm: true, hidden: 128, layers: 4 }),
  );
  try {
    const steps = size.epochs * Math.floor(trainData.labels.length / 64);
    let done = 0;
    const progress: ProgressSink = {
      isTerminal: false,
      write: (text) => {
        const m = /\((\d+)\/(\d+) steps/.exec(text);
        if (m) say("training", (done + Number(m[1])) / steps);
        if (/^epoch \d+\/\d+: (?!\d+%)/.test(text)) {
          done += Math.floor(trainData.labels.length / 64);
        }
      },
    };
    await train(model, trainData, {
      epochs: size.epochs,
      validation,
      seed: 0,
      progress,
      readEvery: 10,
    });
    const accuracy = (await evaluate(model, test)).accuracy;
    say("Δk: losses at the perturbed points", 0);
    const curve: DeltaCurve = await estimateDelta(model, trainData, {
      sigma: size.sigma,
      points: size.points,
      samples: Math.min(size.samples, trainData.labels.length),
      seed: 0,
      evaluation: {
        onProgress: (d, total) => say("Δk: losses at the perturbed points", d / total),
      },
    });
    let fit: RateFit | null = null;
    try {
      fit = fitRate(curve, { seed: 0 });
    } catch {
      fit = null;
    }
    say("done", 1);
    return {
      adapter: gpu.adapter,
      testAccuracy: accuracy,
      curve: { k: [...curve.k], delta: [...curve.delta], se: [...curve.se] },
      fit: fit && { p: fit.p, c: fit.c, interval: fit.interval },
      finite: Array.from(curve.delta).every(Number.isFinite),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    model.dispose();
  }
}
