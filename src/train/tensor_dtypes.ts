/**
 * The safetensors dtypes a state dict may hold, read as float32: PyTorch saves F32 by default,
 * and models trained in half precision or float64 save F16, BF16 or F64; batch norm's
 * num_batches_tracked is I64.
 * @module
 */

/** Bytes per value of each readable dtype. */
export const DTYPE_BYTES: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8 };

/** An IEEE half's bits as a number. */
function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1, exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Little-endian `bytes` of `dtype` as float32 values (exact for all but F64 and large I64). */
export function toFloat32(dtype: string, bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  const out = new Float32Array(n);
  const bits = new Uint32Array(1), wide = new Float32Array(bits.buffer);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case "F32":
        out[i] = view.getFloat32(4 * i, true);
        break;
      case "F64":
        out[i] = view.getFloat64(8 * i, true);
        break;
      case "F16":
        out[i] = half(view.getUint16(2 * i, true));
        break;
      case "BF16": // the top half of a float32's bits
        bits[0] = view.getUint16(2 * i, true) << 16;
        out[i] = wide[0];
        break;
      case "I64":
        out[i] = Number(view.getBigInt64(8 * i, true));
        break;
    }
  }
  return out;
}
