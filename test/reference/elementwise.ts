/** Float64 references for the element-wise kernels. */

export function unaryRef(x: ArrayLike<number>, op: string, a = 1, b = 0): Float64Array {
  const f: Record<string, (v: number) => number> = {
    affine: (v) => a * v + b,
    abs: Math.abs,
    exp: Math.exp,
    log: Math.log,
    sqrt: Math.sqrt,
    relu: (v) => Math.max(v, 0),
    square: (v) => v * v,
  };
  return Float64Array.from(x, f[op]);
}

export function binaryRef(x: ArrayLike<number>, y: ArrayLike<number>, op: string): Float64Array {
  const f: Record<string, (u: number, v: number) => number> = {
    add: (u, v) => u + v,
    sub: (u, v) => u - v,
    mul: (u, v) => u * v,
    div: (u, v) => u / v,
    max: Math.max,
    min: Math.min,
  };
  return Float64Array.from(x, (u, i) => f[op](u, y[i]));
}
