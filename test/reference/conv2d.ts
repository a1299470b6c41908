/** Float64 reference for 2D convolution (NCHW, zero padding), with rounding-error scales. */

export interface ConvGeometry {
  batch: number;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  k: number;
  stride: number;
  pad: number;
}

export function outSize(g: ConvGeometry): [number, number] {
  const f = (n: number) => Math.floor((n + 2 * g.pad - g.k) / g.stride) + 1;
  return [f(g.inH), f(g.inW)];
}

/** Visits every (output, input, weight) index triple of the convolution. */
function forEachTap(
  g: ConvGeometry,
  visit: (yi: number, xi: number, wi: number, n: number, oc: number) => void,
): void {
  const [oh, ow] = outSize(g);
  for (let n = 0; n < g.batch; n++) {
    for (let oc = 0; oc < g.outC; oc++) {
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          const yi = ((n * g.outC + oc) * oh + y) * ow + x;
          for (let ic = 0; ic < g.inC; ic++) {
            for (let kh = 0; kh < g.k; kh++) {
              const ih = y * g.stride + kh - g.pad;
              if (ih < 0 || ih >= g.inH) continue;
              for (let kw = 0; kw < g.k; kw++) {
                const iw = x * g.stride + kw - g.pad;
                if (iw < 0 || iw >= g.inW) continue;
                visit(
                  yi,
                  ((n * g.inC + ic) * g.inH + ih) * g.inW + iw,
                  ((oc * g.inC + ic) * g.k + kh) * g.k + kw,
                  n,
                  oc,
                );
              }
            }
          }
        }
      }
    }
  }
}

export function convForward(
  g: ConvGeometry,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
): { y: Float64Array; scale: Float64Array } {
  const [oh, ow] = outSize(g);
  const y = new Float64Array(g.batch * g.outC * oh * ow);
  const scale = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const oc = Math.floor(i / (oh * ow)) % g.outC;
    y[i] = b[oc];
    scale[i] = Math.abs(b[oc]);
  }
  forEachTap(g, (yi, xi, wi) => {
    y[yi] += x[xi] * w[wi];
    scale[yi] += Math.abs(x[xi] * w[wi]);
  });
  return { y, scale };
}

export function convBackward(
  g: ConvGeometry,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(g.batch * g.inC * g.inH * g.inW);
  const dw = new Float64Array(g.outC * g.inC * g.k * g.k);
  const db = new Float64Array(g.outC);
  const [oh, ow] = outSize(g);
  for (let i = 0; i < dy.length; i++) db[Math.floor(i / (oh * ow)) % g.outC] += dy[i];
  forEachTap(g, (yi, xi, wi) => {
    dx[xi] += dy[yi] * w[wi];
    dw[wi] += dy[yi] * x[xi];
  });
  return { dx, dw, db };
}

/** Number of terms summed into each output, input gradient and weight gradient (for bounds). */
export function convDepths(g: ConvGeometry): { forward: number; dx: number; dw: number } {
  const [oh, ow] = outSize(g);
  return { forward: g.inC * g.k * g.k + 1, dx: g.outC * g.k * g.k, dw: g.batch * oh * ow };
}
