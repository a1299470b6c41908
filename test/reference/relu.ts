/**
 * Float64 reference for ReLU with PyTorch's semantics: NaN passes through the forward pass;
 * the gradient is 0 where x <= 0 (so 0 at x = 0) and dy elsewhere (NaN x included).
 */

export function reluRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => (v <= 0 ? 0 : v));
}

export function reluBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v, i) => (v <= 0 ? 0 : dy[i]));
}
