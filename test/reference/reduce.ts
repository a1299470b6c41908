import { SCAN_LAYOUT } from "../../src/ops/scan.ts";

/** Float64 references for reductions and prefix sums along rows. */

export function reduceRef(x: ArrayLike<number>, rows: number, op: string): Float64Array {
  const n = x.length / rows;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = op === "max" ? -Infinity : op === "min" ? Infinity : 0;
    for (let i = 0; i < n; i++) {
      const v = x[r * n + i];
      acc = op === "max" ? Math.max(acc, v) : op === "min" ? Math.min(acc, v) : acc + v;
    }
    out[r] = op === "mean" ? acc / n : acc;
  }
  return out;
}

/** Sum of |x| per row, for rounding-error bounds. */
export function absSumRef(x: ArrayLike<number>, rows: number): Float64Array {
  return reduceRef(Float64Array.from(x, Math.abs), rows, "sum");
}

export function cumsumRef(x: ArrayLike<number>, rows: number): Float64Array {
  const n = x.length / rows;
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let i = 0; i < n; i++) out[r * n + i] = acc += x[r * n + i];
  }
  return out;
}

/**
 * Error depth of the GPU scan: per level of blocks, a prefix sum passes through at most
 * `items` sequential additions, log2(workgroupSize) Hillis-Steele levels and 2 offset
 * additions, so element i is within depth * 2^-24 * sum_{j<=i} |x_j| of the exact prefix sum.
 */
export function scanDepth(n: number): number {
  const { workgroupSize, items } = SCAN_LAYOUT;
  let levels = 0;
  do {
    n = Math.ceil(n / (workgroupSize * items));
    levels++;
  } while (n > 1);
  return levels * (items + Math.log2(workgroupSize) + 2);
}
