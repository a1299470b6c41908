/**
 * Float64 reference for batch normalization with PyTorch semantics. Activations are
 * [batch, C, S] row-major (S = 1 for [F] input, H * W for [C, H, W]); statistics are per
 * channel over batch * S values.
 */

/** Extents of one group of activations. */
export interface BnDims {
  batch: number;
  channels: number;
  spatial: number;
}

const at = (d: BnDims, b: number, c: number, s: number) => (b * d.channels + c) * d.spatial + s;

/** Calls f(element index, channel) for every element of channel c. */
function eachOf(d: BnDims, c: number, f: (i: number) => void): void {
  for (let b = 0; b < d.batch; b++) {
    for (let s = 0; s < d.spatial; s++) f(at(d, b, c, s));
  }
}

/** Channel of element i. */
export function channelOf(d: BnDims, i: number): number {
  return Math.floor(i / d.spatial) % d.channels;
}

/** Per-channel batch mean, biased variance (two-pass) and mean |x|. */
export function batchStatsRef(
  x: ArrayLike<number>,
  d: BnDims,
): { mean: Float64Array; variance: Float64Array; absMean: Float64Array } {
  const n = d.batch * d.spatial;
  const mean = new Float64Array(d.channels);
  const variance = new Float64Array(d.channels);
  const absMean = new Float64Array(d.channels);
  for (let c = 0; c < d.channels; c++) {
    let s = 0, a = 0;
    eachOf(d, c, (i) => {
      s += x[i];
      a += Math.abs(x[i]);
    });
    mean[c] = s / n;
    absMean[c] = a / n;
    let q = 0;
    eachOf(d, c, (i) => q += (x[i] - mean[c]) ** 2);
    variance[c] = q / n;
  }
  return { mean, variance, absMean };
}

/** Training forward: y = gamma * xhat + beta with batch mean and biased variance. */
export function batchNormTrainRef(
  x: ArrayLike<number>,
  d: BnDims,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps: number,
): {
  y: Float64Array;
  xhat: Float64Array;
  mean: Float64Array;
  variance: Float64Array;
  invstd: Float64Array;
  absMean: Float64Array;
} {
  const { mean, variance, absMean } = batchStatsRef(x, d);
  const invstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const y = new Float64Array(x.length);
  const xhat = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = channelOf(d, i);
    xhat[i] = (x[i] - mean[c]) * invstd[c];
    y[i] = gamma[c] * xhat[i] + beta[c];
  }
  return { y, xhat, mean, variance, invstd, absMean };
}

/**
 * Backward of the training forward: dgamma = sum(dy * xhat), dbeta = sum(dy),
 * dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)).
 */
export function batchNormBackwardRef(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  d: BnDims,
  gamma: ArrayLike<number>,
  eps: number,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const n = d.batch * d.spatial;
  const { xhat, invstd } = batchNormTrainRef(x, d, gamma, new Float64Array(d.channels), eps);
  const dgamma = new Float64Array(d.channels);
  const dbeta = new Float64Array(d.channels);
  for (let c = 0; c < d.channels; c++) {
    eachOf(d, c, (i) => {
      dbeta[c] += dy[i];
      dgamma[c] += dy[i] * xhat[i];
    });
  }
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = channelOf(d, i);
    dx[i] = gamma[c] * invstd[c] * (dy[i] - dbeta[c] / n - xhat[i] * dgamma[c] / n);
  }
  return { dx, dgamma, dbeta };
}

/** PyTorch's running-statistics update: the variance enters unbiased, times n / (n - 1). */
export function runningUpdateRef(
  runMean: ArrayLike<number>,
  runVar: ArrayLike<number>,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  n: number,
  momentum: number,
): { runMean: Float64Array; runVar: Float64Array } {
  return {
    runMean: Float64Array.from(runMean, (r, c) => (1 - momentum) * r + momentum * mean[c]),
    runVar: Float64Array.from(
      runVar,
      (r, c) => (1 - momentum) * r + momentum * variance[c] * n / (n - 1),
    ),
  };
}

/** Eval forward: y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta. */
export function batchNormEvalRef(
  x: ArrayLike<number>,
  d: BnDims,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  runMean: ArrayLike<number>,
  runVar: ArrayLike<number>,
  eps: number,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = channelOf(d, i);
    y[i] = gamma[c] * (x[i] - runMean[c]) / Math.sqrt(runVar[c] + eps) + beta[c];
  }
  return y;
}
