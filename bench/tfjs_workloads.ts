/**
 * TensorFlow.js (tfjs-core + tfjs-backend-webgpu 4.22.0, from npm) side of bench/compare.ts:
 * the same workloads and architectures as the engine, written with tfjs-core ops only (no
 * tfjs-layers): Linear/Conv -> ReLU -> BatchNorm (batch statistics from tf.moments, running
 * statistics updated as PyTorch does) -> Dropout, softmax cross-entropy, tf.train.adam.
 * Images are NHWC (tfjs's native layout); sizes and layer order match the engine's NCHW models.
 *
 * Gradients: tfjs-core's npm bundles register no gradient functions; training needs its
 * `dist/register_all_gradients.js` (what `@tensorflow/tfjs` imports), whose relative imports
 * have no file extensions, which Deno's loader for npm ES modules rejects. So that file is
 * bundled with esbuild at start-up (its `long` and `seedrandom` imports left to npm: at the
 * versions tfjs-core pins) and imported; tfjs keeps its engine and registries in globals, so the
 * gradients land in the same registry the ops use.
 *
 * Timing waits for the GPU without reading data back: the backend's recorded commands are
 * submitted and `queue.onSubmittedWorkDone()` awaited (the engine's `gpu.sync()` equivalent).
 * @module
 */
// Pinned here rather than in deno.json: only the comparison harness uses tfjs.
// deno-lint-ignore no-import-prefix
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
// deno-lint-ignore no-import-prefix
import "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import { lcg } from "./engine_workloads.ts";

/** The parts of tfjs's WebGPUBackend used here (not in tfjs-core's types). */
interface WebGpuBackend {
  device: GPUDevice;
  queue: GPUQueue;
  commandEncoder: GPUCommandEncoder | null;
  adapterInfo: { vendor?: string; architecture?: string };
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** What tfjs runs on. */
export interface TfjsInfo {
  /** tfjs-core version. */
  version: string;
  /** The active backend's name (must be "webgpu"). */
  backend: string;
  /** Class name of the backend object. */
  backendClass: string;
  /** Backends registered with tfjs (only webgpu is imported, so no CPU fallback exists). */
  registered: string[];
  /** The adapter tfjs's backend requested (vendor and architecture, as tfjs records them). */
  adapterInfo: { vendor?: string; architecture?: string };
  /** The device's own adapter description, when the runtime exposes GPUDevice.adapterInfo. */
  deviceAdapter?: string;
  /** tfjs's platform object (Deno with npm packages looks like Node to it). */
  platform: string;
  /** Flags that change where tfjs runs kernels. */
  flags: Record<string, unknown>;
}

/** Imports tfjs-core's register_all_gradients.js, bundled with esbuild (see the header). */
async function registerGradients(): Promise<void> {
  const entry = new URL(
    import.meta.resolve("npm:@tensorflow/tfjs-core@4.22.0/dist/register_all_gradients.js"),
  );
  if (entry.protocol !== "file:") throw new Error(`cannot locate tfjs-core's files (${entry})`);
  const pinned: Record<string, string> = { long: "4.0.0", seedrandom: "3.0.5" };
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
    logLevel: "error",
    plugins: [{
      name: "tfjs-core-deps",
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, ({ path }) => ({
          path: pinned[path] ? `npm:${path}@${pinned[path]}` : `node:${path}`,
          external: true,
        }));
      },
    }],
  });
  await esbuild.stop();
  const file = await Deno.makeTempFile({ prefix: "tfjs-gradients-", suffix: ".mjs" });
  try {
    await Deno.writeTextFile(file, result.outputFiles[0].text);
    await import(new URL(`file://${file}`).href);
  } finally {
    await Deno.remove(file);
  }
}

function backend(): WebGpuBackend {
  return tf.backend() as unknown as WebGpuBackend;
}

/** Selects the webgpu backend; throws when tfjs cannot start it. */
export async function initTfjs(): Promise<TfjsInfo> {
  await registerGradients();
  if (!(await tf.setBackend("webgpu"))) {
    throw new Error("tfjs could not initialise its webgpu backend");
  }
  await tf.ready();
  const b = backend();
  const info = (b.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return {
    version: tf.version_core,
    backend: tf.getBackend(),
    backendClass: (b as object).constructor.name,
    registered: Object.keys(
      (tf.engine() as unknown as { registryFactory: object }).registryFactory,
    ),
    adapterInfo: { vendor: b.adapterInfo.vendor, architecture: b.adapterInfo.architecture },
    deviceAdapter: info
      ? (info.description || [info.vendor, info.architecture, info.device].filter(Boolean)
        .join(" "))
      : undefined,
    platform: tf.env().platformName,
    flags: {
      WEBGPU_CPU_FORWARD: tf.env().get("WEBGPU_CPU_FORWARD"),
      WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: tf.env().get("WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD"),
      WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: tf.env().get("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE"),
    },
  };
}

/** Submits what tfjs has recorded and waits until the GPU has finished it (no readback). */
export async function tfSync(): Promise<void> {
  const b = backend();
  if (b.commandEncoder) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
  await b.queue.onSubmittedWorkDone();
}

/** Tensors tfjs holds right now (to check that the workloads leak nothing). */
export function tfTensorCount(): number {
  return tf.memory().numTensors;
}

interface DenseVars {
  w: tf.Variable;
  b: tf.Variable;
}
interface NormVars {
  gamma: tf.Variable;
  beta: tf.Variable;
  mean: tf.Variable;
  variance: tf.Variable;
}

let seed = 1;
/** PyTorch's default initialisation bound 1/sqrt(fan_in), uniform. */
function uniformVar(shape: number[], fanIn: number): tf.Variable {
  const bound = 1 / Math.sqrt(fanIn);
  const size = shape.reduce((a, b) => a * b, 1);
  const values = lcg(size, seed++).map((v) => 2 * bound * v);
  return tf.variable(tf.tensor(values, shape));
}

function dense(inF: number, outF: number): DenseVars {
  return { w: uniformVar([inF, outF], inF), b: uniformVar([outF], inF) };
}

function conv(inC: number, outC: number): DenseVars {
  return { w: uniformVar([3, 3, inC, outC], inC * 9), b: uniformVar([outC], inC * 9) };
}

function norm(c: number): NormVars {
  return {
    gamma: tf.variable(tf.ones([c])),
    beta: tf.variable(tf.zeros([c])),
    mean: tf.variable(tf.zeros([c]), false),
    variance: tf.variable(tf.ones([c]), false),
  };
}

/** Batch statistics of one batch-norm layer in a training forward (n values per channel). */
interface BatchStats {
  mean: tf.Tensor;
  variance: tf.Tensor;
  n: number;
}

/** A model as tfjs-core ops: hidden blocks Linear/Conv -> ReLU -> BatchNorm (-> Dropout). */
interface Model {
  /** Trainable variables, in order. */
  trainable: tf.Variable[];
  /**
   * Logits for x. Train mode: batch statistics (returned for the running update), dropout on;
   * eval mode: running statistics. `weights` replaces the trainable variables (perturbed points).
   */
  forward(
    x: tf.Tensor,
    training: boolean,
    weights?: tf.Tensor[],
  ): { logits: tf.Tensor2D; stats: BatchStats[] };
  /** Running statistics per batch-norm layer. */
  norms: NormVars[];
}

/** The paper's MLP: Flatten, 4 x (Linear 128 -> ReLU -> BatchNorm -> Dropout 0.05), Linear 10. */
export function tfMlp(): Model {
  const hidden = [dense(784, 128), dense(128, 128), dense(128, 128), dense(128, 128)];
  const norms = hidden.map(() => norm(128));
  const head = dense(128, 10);
  const trainable: tf.Variable[] = [];
  hidden.forEach((d, i) => trainable.push(d.w, d.b, norms[i].gamma, norms[i].beta));
  trainable.push(head.w, head.b);
  return {
    trainable,
    norms,
    forward(x, training, weights) {
      const w = weights ?? trainable;
      const batch = x.shape[0];
      let h: tf.Tensor = tf.reshape(x, [batch, 784]);
      const stats: BatchStats[] = [];
      for (let i = 0; i < 4; i++) {
        const [W, b, gamma, beta] = w.slice(4 * i, 4 * i + 4);
        h = tf.relu(tf.add(tf.matMul(h as tf.Tensor2D, W as tf.Tensor2D), b));
        if (training) {
          const { mean, variance } = tf.moments(h, 0);
          stats.push({ mean, variance, n: batch });
          h = tf.batchNorm(h, mean, variance, beta, gamma, 1e-5);
          h = tf.dropout(h, 0.05);
        } else {
          h = tf.batchNorm(h, norms[i].mean, norms[i].variance, beta, gamma, 1e-5);
        }
      }
      const logits = tf.add(
        tf.matMul(h as tf.Tensor2D, w[16] as tf.Tensor2D),
        w[17],
      ) as tf.Tensor2D;
      return { logits, stats };
    },
  };
}

/**
 * The paper's CNN (the engine's cnn() shape), NHWC: 4 x (Conv 3x3 same, 64 ch -> ReLU ->
 * BatchNorm), Conv 3x3 valid to 16 ch, Flatten, Linear 10816 -> 10.
 */
export function tfCnn(): Model {
  const convs = [conv(1, 64), conv(64, 64), conv(64, 64), conv(64, 64)];
  const norms = convs.map(() => norm(64));
  const headConv = conv(64, 16);
  const head = dense(16 * 26 * 26, 10);
  const trainable: tf.Variable[] = [];
  convs.forEach((c, i) => trainable.push(c.w, c.b, norms[i].gamma, norms[i].beta));
  trainable.push(headConv.w, headConv.b, head.w, head.b);
  return {
    trainable,
    norms,
    forward(x, training, weights) {
      const w = weights ?? trainable;
      const batch = x.shape[0];
      let h: tf.Tensor = x;
      const stats: BatchStats[] = [];
      for (let i = 0; i < 4; i++) {
        const [W, b, gamma, beta] = w.slice(4 * i, 4 * i + 4);
        h = tf.relu(tf.add(tf.conv2d(h as tf.Tensor4D, W as tf.Tensor4D, 1, "same"), b));
        if (training) {
          const { mean, variance } = tf.moments(h, [0, 1, 2]);
          stats.push({ mean, variance, n: batch * 28 * 28 });
          h = tf.batchNorm(h, mean, variance, beta, gamma, 1e-5);
        } else {
          h = tf.batchNorm(h, norms[i].mean, norms[i].variance, beta, gamma, 1e-5);
        }
      }
      h = tf.add(tf.conv2d(h as tf.Tensor4D, w[16] as tf.Tensor4D, 1, "valid"), w[17]);
      const flat = tf.reshape(h, [batch, 16 * 26 * 26]) as tf.Tensor2D;
      const logits = tf.add(tf.matMul(flat, w[18] as tf.Tensor2D), w[19]) as tf.Tensor2D;
      return { logits, stats };
    },
  };
}

/** Number of trainable values. */
export function parameterCount(model: Model): number {
  return model.trainable.reduce((s, v) => s + v.size, 0);
}

/** Host batches (images NHWC, labels) rotated through, uploaded at every use as the engine does. */
function hostBatches(batch: number, count: number, pixels: number) {
  return Array.from({ length: count }, (_, i) => ({
    images: lcg(batch * pixels, 100 + i),
    labels: Int32Array.from({ length: batch }, (_, j) => (j * 7 + i) % 10),
  }));
}

/** A workload unit: `run(inner)` records `inner` units of work and waits; returns ms. */
export interface TfjsUnit {
  /** Trainable values of the model (0 for the matrix product). */
  parameters: number;
  /** Runs `inner` units and waits for the GPU; wall milliseconds. */
  run(inner: number): Promise<number>;
  /** Frees everything. */
  dispose(): void;
}

async function timed(work: () => void): Promise<number> {
  await tfSync();
  const t0 = performance.now();
  work();
  await tfSync();
  return performance.now() - t0;
}

/** 1024^3 float32 product. */
export function tfMatmul(): TfjsUnit {
  const a = tf.tensor2d(lcg(1024 * 1024, 1), [1024, 1024]);
  const b = tf.tensor2d(lcg(1024 * 1024, 2), [1024, 1024]);
  return {
    parameters: 0,
    run: (inner) =>
      timed(() => {
        for (let i = 0; i < inner; i++) tf.matMul(a, b).dispose();
      }),
    dispose() {
      a.dispose();
      b.dispose();
    },
  };
}

/** One training step (upload, forward, cross-entropy, backward, Adam, running statistics). */
export function tfTrainStep(kind: "mlp" | "cnn", batch = 64): TfjsUnit {
  const model = kind === "mlp" ? tfMlp() : tfCnn();
  const optimizer = tf.train.adam(3e-4);
  const batches = hostBatches(batch, 4, 784);
  let step = 0;
  const one = () => {
    const host = batches[step++ % batches.length];
    const x = tf.tensor4d(host.images, [batch, 28, 28, 1]);
    const labels = tf.tensor1d(host.labels, "int32");
    const onehot = tf.oneHot(labels, 10);
    let kept: BatchStats[] = [];
    const loss = optimizer.minimize(() => {
      const { logits, stats } = model.forward(x, true);
      kept = stats.map((s) => ({ mean: tf.keep(s.mean), variance: tf.keep(s.variance), n: s.n }));
      return tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
    }, true);
    tf.tidy(() => {
      kept.forEach((s, i) => {
        const bn = model.norms[i];
        bn.mean.assign(tf.add(tf.mul(bn.mean, 0.9), tf.mul(s.mean, 0.1)));
        bn.variance.assign(
          tf.add(tf.mul(bn.variance, 0.9), tf.mul(s.variance, 0.1 * s.n / (s.n - 1))),
        );
      });
    });
    for (const s of kept) tf.dispose([s.mean, s.variance]);
    tf.dispose([x, labels, onehot]);
    loss?.dispose();
  };
  return {
    parameters: parameterCount(model),
    run: (inner) =>
      timed(() => {
        for (let i = 0; i < inner; i++) one();
      }),
    dispose() {
      optimizer.dispose();
      tf.dispose(model.trainable);
      for (const n of model.norms) tf.dispose([n.mean, n.variance]);
    },
  };
}

/** Eval-mode CNN forward and per-sample losses of one batch. */
export function tfCnnEval(batch = 64): TfjsUnit {
  const model = tfCnn();
  const host = hostBatches(batch, 1, 784)[0];
  const x = tf.tensor4d(host.images, [batch, 28, 28, 1]);
  const onehot = tf.tidy(() => tf.oneHot(tf.tensor1d(host.labels, "int32"), 10));
  return {
    parameters: parameterCount(model),
    run: (inner) =>
      timed(() => {
        for (let i = 0; i < inner; i++) {
          tf.tidy(() => {
            const { logits } = model.forward(x, false);
            tf.losses.softmaxCrossEntropy(onehot, logits, undefined, 0, tf.Reduction.NONE);
          });
        }
      }),
    dispose() {
      tf.dispose([x, onehot, ...model.trainable]);
      for (const n of model.norms) tf.dispose([n.mean, n.variance]);
    },
  };
}

/**
 * The loss matrix of the paper MLP at `points` points w* + sigma * eps (every trainable
 * parameter; eps from tf.randomNormal, which tfjs draws on the CPU and uploads) on `samples`
 * images, eval mode: a loop over points that forms each perturbed weight set and evaluates it;
 * the rows are stacked into [points, samples] on the GPU. One run = all points.
 */
export function tfDelta(points: number, samples: number, sigma = 0.01): TfjsUnit {
  const model = tfMlp();
  const host = hostBatches(samples, 1, 784)[0];
  const x = tf.tensor4d(host.images, [samples, 28, 28, 1]);
  const onehot = tf.tidy(() => tf.oneHot(tf.tensor1d(host.labels, "int32"), 10));
  return {
    parameters: parameterCount(model),
    run: () =>
      timed(() => {
        const rows = [];
        for (let t = 0; t < points; t++) {
          rows.push(tf.tidy(() => {
            const w = model.trainable.map((v) => tf.add(v, tf.randomNormal(v.shape, 0, sigma)));
            const { logits } = model.forward(x, false, w);
            return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, 0, tf.Reduction.NONE);
          }));
        }
        const matrix = tf.stack(rows);
        tf.dispose(rows);
        matrix.dispose();
      }),
    dispose() {
      tf.dispose([x, onehot, ...model.trainable]);
      for (const n of model.norms) tf.dispose([n.mean, n.variance]);
    },
  };
}
