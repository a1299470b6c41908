/** Float64 reference for the dense layer y = x W^T + b, with rounding-error scales. */

export function denseForward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  batch: number,
  inF: number,
  outF: number,
): { y: Float64Array; scale: Float64Array } {
  const y = new Float64Array(batch * outF);
  const scale = new Float64Array(batch * outF); // sum |x_k w_k| + |b|: bounds rounding error
  for (let m = 0; m < batch; m++) {
    for (let n = 0; n < outF; n++) {
      let s = b[n], a = Math.abs(b[n]);
      for (let k = 0; k < inF; k++) {
        s += x[m * inF + k] * w[n * inF + k];
        a += Math.abs(x[m * inF + k] * w[n * inF + k]);
      }
      y[m * outF + n] = s;
      scale[m * outF + n] = a;
    }
  }
  return { y, scale };
}

export function denseBackward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
  batch: number,
  inF: number,
  outF: number,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(batch * inF);
  const dw = new Float64Array(outF * inF);
  const db = new Float64Array(outF);
  for (let m = 0; m < batch; m++) {
    for (let n = 0; n < outF; n++) {
      const g = dy[m * outF + n];
      db[n] += g;
      for (let k = 0; k < inF; k++) {
        dx[m * inF + k] += g * w[n * inF + k];
        dw[n * inF + k] += g * x[m * inF + k];
      }
    }
  }
  return { dx, dw, db };
}
