/** Float64 reference for softmax cross-entropy over [G, B, C] logits with labels [B]. */

export interface LossRef {
  /** [G * B] per-sample losses (NaN for labels >= C). */
  losses: Float64Array;
  /** [G] batch means. */
  mean: Float64Array;
  /** [G * B] log of the shifted sum: log(sum exp(x - max)). */
  logSum: Float64Array;
  /** [G * B] x[label] - max. */
  picked: Float64Array;
}

export function crossEntropyRef(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  groups: number,
  classes: number,
): LossRef {
  const batch = labels.length;
  const rows = groups * batch;
  const losses = new Float64Array(rows), logSum = new Float64Array(rows);
  const picked = new Float64Array(rows), mean = new Float64Array(groups);
  for (let r = 0; r < rows; r++) {
    const base = r * classes, label = labels[r % batch];
    let m = -Infinity;
    for (let c = 0; c < classes; c++) m = Math.max(m, logits[base + c]);
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(logits[base + c] - m);
    logSum[r] = Math.log(s);
    picked[r] = label < classes ? logits[base + label] - m : NaN;
    losses[r] = logSum[r] - picked[r];
    mean[Math.floor(r / batch)] += losses[r] / batch;
  }
  return { losses, mean, logSum, picked };
}

/** Gradient of the mean loss of one group: (softmax - onehot) / B; also the softmax. */
export function crossEntropyBackwardRef(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
): { grad: Float64Array; softmax: Float64Array } {
  const batch = labels.length;
  const grad = new Float64Array(batch * classes), softmax = new Float64Array(batch * classes);
  for (let b = 0; b < batch; b++) {
    const base = b * classes;
    let m = -Infinity;
    for (let c = 0; c < classes; c++) m = Math.max(m, logits[base + c]);
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(logits[base + c] - m);
    for (let c = 0; c < classes; c++) {
      const q = Math.exp(logits[base + c] - m) / s;
      softmax[base + c] = q;
      grad[base + c] = labels[b] < classes ? (q - (c === labels[b] ? 1 : 0)) / batch : NaN;
    }
  }
  return { grad, softmax };
}

/** Per group, how many rows have argmax (lowest index among ties) equal to the label. */
export function correctCountRef(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  groups: number,
  classes: number,
): Uint32Array {
  const batch = labels.length;
  const out = new Uint32Array(groups);
  for (let r = 0; r < groups * batch; r++) {
    let arg = 0;
    for (let c = 1; c < classes; c++) {
      if (logits[r * classes + c] > logits[r * classes + arg]) arg = c;
    }
    if (arg === labels[r % batch]) out[Math.floor(r / batch)]++;
  }
  return out;
}
