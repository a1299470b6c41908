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

/** Winograd's transforms by output tile side, in absolute value: |B^T|, |G|, |A^T|. */
const ABS_TRANSFORMS = {
  2: {
    bt: [[1, 0, 1, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 1, 0, 1]],
    g: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0, 0, 1]],
    at: [[1, 1, 1, 0], [0, 1, 1, 1]],
    // 2 additions in the input transform, 4 in the weight transform (halvings are exact), 4
    // in the output transform, and the bias
    depth: 11,
  },
  4: {
    bt: [
      [4, 0, 5, 0, 1, 0],
      [0, 4, 4, 1, 1, 0],
      [0, 4, 4, 1, 1, 0],
      [0, 2, 1, 2, 1, 0],
      [0, 2, 1, 2, 1, 0],
      [0, 4, 0, 5, 0, 1],
    ],
    g: [
      [1 / 4, 0, 0],
      [1 / 6, 1 / 6, 1 / 6],
      [1 / 6, 1 / 6, 1 / 6],
      [1 / 24, 1 / 12, 1 / 6],
      [1 / 24, 1 / 12, 1 / 6],
      [0, 0, 1],
    ],
    at: [[1, 1, 1, 1, 1, 0], [0, 1, 1, 2, 2, 0], [0, 1, 1, 4, 4, 0], [0, 1, 1, 8, 8, 1]],
    // per stage at most 3 roundings in the input transform, 3 in the weight transform
    // (divisions included), 5 in the output transform; and the bias
    depth: 23,
  },
} as const;

/** Output tile side of a Winograd evaluation: F(2x2, 3x3) or F(4x4, 3x3). */
export type WinogradSide = keyof typeof ABS_TRANSFORMS;

/** |B^T| |d| |B| of input tile (ty, tx) of image n for every input channel, into v [C, a^2]. */
function absInputTiles(
  g: ConvGeometry,
  x: ArrayLike<number>,
  n: number,
  ty: number,
  tx: number,
  v: Float64Array,
  side: WinogradSide = 2,
): void {
  const absBt = ABS_TRANSFORMS[side].bt, a = side + 2;
  const at = (c: number, row: number, col: number) =>
    row < 0 || col < 0 || row >= g.inH || col >= g.inW
      ? 0
      : Math.abs(x[((n * g.inC + c) * g.inH + row) * g.inW + col]);
  for (let c = 0; c < g.inC; c++) {
    for (let r = 0; r < a; r++) {
      for (let s = 0; s < a; s++) {
        let t = 0;
        for (let i = 0; i < a; i++) {
          for (let j = 0; j < a; j++) {
            t += absBt[r][i] * at(c, side * ty + i - g.pad, side * tx + j - g.pad) * absBt[s][j];
          }
        }
        v[c * a * a + r * a + s] = t;
      }
    }
  }
}

/**
 * The sum |terms| that rounding errors of a Winograd F(side x side, 3x3) evaluation scale with
 * (3x3, stride 1; the engine's register-core path): per output, |A^T| (sum_c |G| |g| |G^T| *
 * |B^T| |d| |B|) |A| + |bias|, with the depth of its float32 evaluation: C products summed in
 * sequence plus the roundings of the transforms and the bias.
 */
export function winogradScale(
  g: ConvGeometry,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b?: ArrayLike<number>,
  side: WinogradSide = 2,
): { scale: Float64Array; depth: number } {
  if (g.k !== 3 || g.stride !== 1) throw new RangeError("Winograd F(m x m, 3x3) is 3x3, stride 1");
  const [oh, ow] = outSize(g);
  const th = Math.ceil(oh / side), tw = Math.ceil(ow / side);
  const { g: absG, at: absAt, depth } = ABS_TRANSFORMS[side];
  const a = side + 2, a2 = a * a;
  // |U| per (oc, ic): a^2 values.
  const u = new Float64Array(g.outC * g.inC * a2);
  for (let oc = 0; oc < g.outC; oc++) {
    for (let ic = 0; ic < g.inC; ic++) {
      for (let r = 0; r < a; r++) {
        for (let s = 0; s < a; s++) {
          let v = 0;
          for (let i = 0; i < 3; i++) {
            for (let c = 0; c < 3; c++) {
              v += absG[r][i] * Math.abs(w[((oc * g.inC + ic) * 3 + i) * 3 + c]) * absG[s][c];
            }
          }
          u[(oc * g.inC + ic) * a2 + r * a + s] = v;
        }
      }
    }
  }
  const scale = new Float64Array(g.batch * g.outC * oh * ow);
  const v = new Float64Array(g.inC * a2);
  const m = new Float64Array(a2);
  for (let n = 0; n < g.batch; n++) {
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw; tx++) {
        absInputTiles(g, x, n, ty, tx, v, side);
        for (let oc = 0; oc < g.outC; oc++) {
          m.fill(0);
          for (let c = 0; c < g.inC; c++) {
            for (let e = 0; e < a2; e++) m[e] += u[(oc * g.inC + c) * a2 + e] * v[c * a2 + e];
          }
          for (let i = 0; i < side; i++) {
            for (let j = 0; j < side; j++) {
              const row = side * ty + i, col = side * tx + j;
              if (row >= oh || col >= ow) continue;
              let y = b ? Math.abs(b[oc]) : 0;
              for (let r = 0; r < a; r++) {
                for (let s = 0; s < a; s++) y += absAt[i][r] * m[r * a + s] * absAt[j][s];
              }
              scale[((n * g.outC + oc) * oh + row) * ow + col] = y;
            }
          }
        }
      }
    }
  }
  return { scale, depth: g.inC + depth };
}

/** The input gradient of a 3x3 stride-1 convolution as a convolution: dy with W rotated. */
export function dxAsConv(
  g: ConvGeometry,
  w: ArrayLike<number>,
): { geometry: ConvGeometry; weights: Float64Array } {
  const [oh, ow] = outSize(g);
  const weights = new Float64Array(w.length);
  for (let oc = 0; oc < g.outC; oc++) {
    for (let ic = 0; ic < g.inC; ic++) {
      for (let a = 0; a < 3; a++) {
        for (let c = 0; c < 3; c++) {
          weights[((ic * g.outC + oc) * 3 + a) * 3 + c] =
            w[((oc * g.inC + ic) * 3 + 2 - a) * 3 + 2 - c];
        }
      }
    }
  }
  return {
    geometry: {
      batch: g.batch,
      inC: g.outC,
      inH: oh,
      inW: ow,
      outC: g.inC,
      k: 3,
      stride: 1,
      pad: 2 - g.pad,
    },
    weights,
  };
}

/**
 * The same for the weight gradient by F(3x3, 2x2) over the forward's tiles: per weight,
 * |A'^T| (sum over tiles |G'| |f| |G'^T| * |B'^T| |d| |B'|) |A'|, f the 2 x 2 tile of dy;
 * depth: one product per tile summed in sequence (all tiles of all images), 2 additions in
 * each transform and 4 in the output transform.
 */
export function winogradGradScale(
  g: ConvGeometry,
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
): { scale: Float64Array; depth: number } {
  if (g.k !== 3 || g.stride !== 1) throw new RangeError("Winograd F(3x3, 2x2) is 3x3, stride 1");
  const [oh, ow] = outSize(g);
  const th = Math.ceil(oh / 2), tw = Math.ceil(ow / 2);
  const absG = [[1, 0], [0.5, 0.5], [0.5, 0.5], [0, 1]];
  const absAt = [[1, 1, 1, 0], [0, 1, 1, 0], [0, 1, 1, 1]];
  const m = new Float64Array(g.outC * g.inC * 16);
  const v = new Float64Array(g.inC * 16), f = new Float64Array(g.outC * 16);
  const dyAt = (n: number, k: number, row: number, col: number) =>
    row >= oh || col >= ow ? 0 : Math.abs(dy[((n * g.outC + k) * oh + row) * ow + col]);
  for (let n = 0; n < g.batch; n++) {
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw; tx++) {
        absInputTiles(g, x, n, ty, tx, v);
        for (let k = 0; k < g.outC; k++) {
          for (let r = 0; r < 4; r++) {
            for (let s = 0; s < 4; s++) {
              let t = 0;
              for (let i = 0; i < 2; i++) {
                for (let j = 0; j < 2; j++) {
                  t += absG[r][i] * dyAt(n, k, 2 * ty + i, 2 * tx + j) * absG[s][j];
                }
              }
              f[k * 16 + r * 4 + s] = t;
            }
          }
        }
        for (let k = 0; k < g.outC; k++) {
          for (let c = 0; c < g.inC; c++) {
            const at = (k * g.inC + c) * 16;
            for (let e = 0; e < 16; e++) m[at + e] += f[k * 16 + e] * v[c * 16 + e];
          }
        }
      }
    }
  }
  const scale = new Float64Array(g.outC * g.inC * 9);
  for (let kc = 0; kc < g.outC * g.inC; kc++) {
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        let y = 0;
        for (let r = 0; r < 4; r++) {
          for (let s = 0; s < 4; s++) y += absAt[a][r] * m[kc * 16 + r * 4 + s] * absAt[b][s];
        }
        scale[kc * 9 + a * 3 + b] = y;
      }
    }
  }
  return { scale, depth: g.batch * th * tw + 8 };
}
