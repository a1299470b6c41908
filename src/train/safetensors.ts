/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written
 * without dependencies: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, string metadata under "__metadata__", then the data.
 * PyTorch (`safetensors.torch.load_file`) and numpy users can read what this writes.
 * @module
 */

/** A float32 tensor to store. */
export interface NamedTensor {
  /** Extents, outermost first. */
  shape: number[];
  /** Row-major values. */
  data: Float32Array;
}

/** Thrown for files that are not valid safetensors; names the file. */
export class SafetensorsError extends Error {
  /** An error about `file`. */
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "SafetensorsError";
  }
}

/** Encodes tensors (float32) and string metadata. */
export function encodeSafetensors(
  tensors: Record<string, NamedTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new RangeError(`${name}: ${t.data.length} values for shape [${t.shape}]`);
    }
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + 4 * size] };
    offset += 4 * size;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8); // data starts 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

/** Decodes a safetensors file's bytes (float32 tensors only). */
export function decodeSafetensors(
  file: string,
  bytes: Uint8Array,
): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new SafetensorsError(file, "too short for a safetensors header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.length - 8) {
    throw new SafetensorsError(file, `header length ${n} exceeds the file (${bytes.length} bytes)`);
  }
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(file, `header is not JSON (${(e as Error).message})`);
  }
  const data = bytes.subarray(8 + n);
  const tensors: Record<string, NamedTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = entry as unknown as Record<string, string>;
      continue;
    }
    if (entry.dtype !== "F32") {
      throw new SafetensorsError(file, `${name}: dtype ${entry.dtype}, only F32 is supported`);
    }
    const [begin, end] = entry.data_offsets;
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== 4 * size || end > data.length || begin < 0) {
      throw new SafetensorsError(
        file,
        `${name}: byte range [${begin}, ${end}) does not fit shape [${entry.shape}] or the file`,
      );
    }
    const copy = data.slice(begin, end);
    tensors[name] = {
      shape: entry.shape,
      data: new Float32Array(copy.buffer, copy.byteOffset, size),
    };
  }
  return { tensors, metadata };
}
