/** Float64 Adam with PyTorch's formula order. */
export function adamReference(
  w: Float64Array,
  grads: Float64Array[],
  { lr = 3e-4, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = {},
): Float64Array {
  const m = new Float64Array(w.length), v = new Float64Array(w.length);
  const out = Float64Array.from(w);
  grads.forEach((grad, s) => {
    const t = s + 1;
    const stepSize = lr / (1 - beta1 ** t), c2 = Math.sqrt(1 - beta2 ** t);
    for (let i = 0; i < w.length; i++) {
      const g = grad[i] + weightDecay * out[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      out[i] -= stepSize * (m[i] / (Math.sqrt(v[i]) / c2 + eps));
    }
  });
  return out;
}
