/** Float64 references for max, average and global average pooling over [planes, H, W]. */

export interface PoolDims {
  planes: number;
  h: number;
  w: number;
  k: number;
  s: number;
}

export function poolOut(d: PoolDims): { oh: number; ow: number } {
  return { oh: Math.floor((d.h - d.k) / d.s) + 1, ow: Math.floor((d.w - d.k) / d.s) + 1 };
}

/** Max pooling: values and argmax (offset in the plane; first max in row-major order wins). */
export function maxPoolRef(
  x: ArrayLike<number>,
  d: PoolDims,
): { y: Float64Array; argmax: Uint32Array } {
  const { oh, ow } = poolOut(d);
  const y = new Float64Array(d.planes * oh * ow);
  const argmax = new Uint32Array(y.length);
  for (let c = 0; c < d.planes; c++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let best = -Infinity, arg = -1;
        for (let a = 0; a < d.k; a++) {
          for (let b = 0; b < d.k; b++) {
            const idx = (i * d.s + a) * d.w + j * d.s + b;
            const v = x[c * d.h * d.w + idx];
            if (arg < 0 || v > best) [best, arg] = [v, idx];
          }
        }
        const o = (c * oh + i) * ow + j;
        y[o] = best;
        argmax[o] = arg;
      }
    }
  }
  return { y, argmax };
}

/** Max pooling backward: dy scattered to the argmax of each window; also the sum of |dy| there. */
export function maxPoolBackwardRef(
  dy: ArrayLike<number>,
  argmax: ArrayLike<number>,
  d: PoolDims,
): { dx: Float64Array; abs: Float64Array } {
  const { oh, ow } = poolOut(d);
  const dx = new Float64Array(d.planes * d.h * d.w), abs = new Float64Array(dx.length);
  for (let o = 0; o < dy.length; o++) {
    const e = Math.floor(o / (oh * ow)) * d.h * d.w + argmax[o];
    dx[e] += dy[o];
    abs[e] += Math.abs(dy[o]);
  }
  return { dx, abs };
}

/** Average pooling (divisor k^2) and, for error bounds, the mean of |x| over each window. */
export function avgPoolRef(
  x: ArrayLike<number>,
  d: PoolDims,
): { y: Float64Array; absMean: Float64Array } {
  const { oh, ow } = poolOut(d);
  const y = new Float64Array(d.planes * oh * ow);
  const absMean = new Float64Array(y.length);
  for (let c = 0; c < d.planes; c++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let sum = 0, abs = 0;
        for (let a = 0; a < d.k; a++) {
          for (let b = 0; b < d.k; b++) {
            const v = x[c * d.h * d.w + (i * d.s + a) * d.w + j * d.s + b];
            sum += v;
            abs += Math.abs(v);
          }
        }
        const o = (c * oh + i) * ow + j;
        y[o] = sum / (d.k * d.k);
        absMean[o] = abs / (d.k * d.k);
      }
    }
  }
  return { y, absMean };
}

/** Average pooling backward; also sum of |dy| / k^2 reaching each input and their count. */
export function avgPoolBackwardRef(
  dy: ArrayLike<number>,
  d: PoolDims,
): { dx: Float64Array; abs: Float64Array; terms: Uint32Array } {
  const { oh, ow } = poolOut(d);
  const n = d.planes * d.h * d.w;
  const dx = new Float64Array(n), abs = new Float64Array(n), terms = new Uint32Array(n);
  for (let c = 0; c < d.planes; c++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const g = dy[(c * oh + i) * ow + j] / (d.k * d.k);
        for (let a = 0; a < d.k; a++) {
          for (let b = 0; b < d.k; b++) {
            const e = c * d.h * d.w + (i * d.s + a) * d.w + j * d.s + b;
            dx[e] += g;
            abs[e] += Math.abs(g);
            terms[e]++;
          }
        }
      }
    }
  }
  return { dx, abs, terms };
}

/** Global average pooling of [planes, hw]: means and mean |x| per plane. */
export function globalAvgPoolRef(
  x: ArrayLike<number>,
  planes: number,
): { y: Float64Array; absMean: Float64Array } {
  const hw = x.length / planes;
  const y = new Float64Array(planes), absMean = new Float64Array(planes);
  for (let c = 0; c < planes; c++) {
    let sum = 0, abs = 0;
    for (let i = 0; i < hw; i++) {
      sum += x[c * hw + i];
      abs += Math.abs(x[c * hw + i]);
    }
    y[c] = sum / hw;
    absMean[c] = abs / hw;
  }
  return { y, absMean };
}

/** Global average pooling backward: dx[c, i] = dy[c] / hw. */
export function globalAvgPoolBackwardRef(dy: ArrayLike<number>, hw: number): Float64Array {
  return Float64Array.from({ length: dy.length * hw }, (_, e) => dy[Math.floor(e / hw)] / hw);
}
