/**
 * Models as data: a model is an input shape and a list of layer specs, which is what
 * checkpoints store and what the paper's builders (MLP, CNN) produce.
 * @module
 */

/** One layer, serialisable. */
export type LayerSpec =
  | { type: "dense"; in: number; out: number }
  | { type: "conv2d"; in: number; out: number; kernel: number; stride?: number; padding?: number }
  | { type: "relu" }
  | { type: "batchnorm"; momentum?: number; eps?: number }
  | { type: "dropout"; p: number }
  | { type: "flatten" }
  | { type: "maxpool"; kernel: number; stride?: number }
  | { type: "avgpool"; kernel: number; stride?: number }
  | { type: "globalavgpool" };

/** A sequential model: per-sample input shape ([features] or [C, H, W]) and its layers. */
export interface ModelConfig {
  /** Free-form name, e.g. "mlp" or "cnn", kept in checkpoints and reports. */
  name: string;
  /** Per-sample input shape, e.g. [1, 28, 28]. */
  inputShape: number[];
  /** The layers, in order. */
  layers: LayerSpec[];
}

/** Options of the paper's MLP. */
export interface MlpOptions {
  /** Per-sample input shape, flattened by the first layer (e.g. [1, 28, 28]). */
  inputShape: number[];
  /** Width of every hidden layer (default 128, as the paper). */
  hidden?: number;
  /** Number of hidden layers (default 4, as the paper). */
  layers?: number;
  /** Number of output classes (default 10). */
  classes?: number;
  /** Insert BatchNorm after each ReLU (default false). */
  batchNorm?: boolean;
  /** Dropout probability after each hidden block; 0 (the default) leaves dropout out. */
  dropout?: number;
}

/**
 * The paper's MLP, block order as in the authors' code: Flatten, then `layers` times
 * Linear -> ReLU -> BatchNorm -> Dropout, then Linear to the classes.
 */
export function mlp(
  { inputShape, hidden = 128, layers = 4, classes = 10, batchNorm = false, dropout = 0 }:
    MlpOptions,
): ModelConfig {
  checkOptions({ hidden, layers, classes, dropout });
  const out: LayerSpec[] = [{ type: "flatten" }];
  let width = inputShape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < layers; i++) {
    out.push({ type: "dense", in: width, out: hidden }, { type: "relu" });
    if (batchNorm) out.push({ type: "batchnorm" });
    if (dropout > 0) out.push({ type: "dropout", p: dropout });
    width = hidden;
  }
  out.push({ type: "dense", in: width, out: classes });
  return { name: "mlp", inputShape: [...inputShape], layers: out };
}

/** Options of the paper's CNN. */
export interface CnnOptions {
  /** Per-sample input shape [C, H, W]. */
  inputShape: number[];
  /** Channels of every hidden convolution (default 64, as the paper). */
  channels?: number;
  /** Number of Conv -> ReLU -> BatchNorm -> Dropout blocks (default 4, as the paper). */
  convLayers?: number;
  /** Square kernel size (default 3, as the paper). */
  kernel?: number;
  /** Padding of the blocks' convolutions (default 1, as the paper). */
  padding?: number;
  /** Channels of the last, unpadded convolution before the classifier (default 16, as the authors' code). */
  headChannels?: number;
  /** Number of output classes (default 10). */
  classes?: number;
  /** Insert BatchNorm after each ReLU (default false). */
  batchNorm?: boolean;
  /** Dropout probability after each block; 0 (the default) leaves dropout out. */
  dropout?: number;
}

/**
 * The paper's CNN as in the authors' code: `convLayers` blocks of Conv(k, padding) -> ReLU ->
 * BatchNorm -> Dropout, a last Conv(k, padding 0) to `headChannels`, Flatten, Linear.
 */
export function cnn(
  {
    inputShape,
    channels = 64,
    convLayers = 4,
    kernel = 3,
    padding = 1,
    headChannels = 16,
    classes = 10,
    batchNorm = false,
    dropout = 0,
  }: CnnOptions,
): ModelConfig {
  if (inputShape.length !== 3) {
    throw new RangeError(`cnn needs a [C, H, W] input, got [${inputShape}]`);
  }
  checkOptions({ channels, layers: convLayers, classes, dropout, headChannels, kernel });
  const out: LayerSpec[] = [];
  let [c, h, w] = inputShape;
  for (let i = 0; i < convLayers; i++) {
    out.push({ type: "conv2d", in: c, out: channels, kernel, padding }, { type: "relu" });
    if (batchNorm) out.push({ type: "batchnorm" });
    if (dropout > 0) out.push({ type: "dropout", p: dropout });
    c = channels;
    h = h + 2 * padding - kernel + 1;
    w = w + 2 * padding - kernel + 1;
  }
  out.push({ type: "conv2d", in: c, out: headChannels, kernel, padding: 0 });
  h -= kernel - 1;
  w -= kernel - 1;
  if (h < 1 || w < 1) {
    throw new RangeError(
      `cnn: ${convLayers} layers of kernel ${kernel} do not fit [${inputShape}]`,
    );
  }
  out.push({ type: "flatten" }, { type: "dense", in: headChannels * h * w, out: classes });
  return { name: "cnn", inputShape: [...inputShape], layers: out };
}

function checkOptions(o: Record<string, number>): void {
  for (const [name, v] of Object.entries(o)) {
    if (name === "dropout") {
      if (!(v >= 0 && v < 1)) throw new RangeError(`dropout must be in [0, 1), got ${v}`);
    } else if (name === "layers") {
      if (!Number.isInteger(v) || v < 0) {
        throw new RangeError(`layers must be an integer >= 0, got ${v}`);
      }
    } else if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${v}`);
    }
  }
}
