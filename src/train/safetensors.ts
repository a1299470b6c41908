/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written
 * without dependencies: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, string metadata under "__metadata__", then the data.
 * PyTorch (`safetensors.torch.load_file`) and numpy users can read what this writes.
 * @module
 */
import { DTYPE_BYTES, toFloat32 } from "./tensor_dtypes.ts";

/** A tensor, its values as float32. */
export interface NamedTensor {
  /** Extents, outermost first. */
  shape: number[];
  /** Row-major values. */
  data: Float32Array;
  /**
   * The dtype in the file: F32 (the default when writing), or I64 (written from integer
   * values, e.g. batch norm's num_batches_tracked); read: also F64, F16 or BF16, converted.
   */
  dtype?: string;
}

/** Thrown for files that are not valid safetensors; names the file. */
export class SafetensorsError extends Error {
  /** An error about `file`. */
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "SafetensorsError";
  }
}

/** Encodes tensors (float32, or I64 where a tensor says so) and string metadata. */
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
    const dtype = t.dtype ?? "F32";
    if (dtype !== "F32" && dtype !== "I64") throw new RangeError(`${name}: cannot write ${dtype}`);
    const bytes = DTYPE_BYTES[dtype] * size;
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8); // data starts 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const { data: d, dtype } = tensors[name];
    if (dtype === "I64") {
      const ints = BigInt64Array.from(d, (v) => BigInt(Math.trunc(v)));
      out.set(new Uint8Array(ints.buffer), at);
      at += ints.byteLength;
    } else {
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
      at += d.byteLength;
    }
  }
  return out;
}

type HeaderEntry = { dtype: string; shape: number[]; data_offsets: [number, number] };

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Checks one tensor's header entry: a dtype, a shape of sizes and two byte offsets. */
function checkEntry(file: string, name: string, entry: unknown): HeaderEntry {
  const e = entry as Partial<HeaderEntry> | null;
  const bad = (field: string, want: string) =>
    new SafetensorsError(
      file,
      `${name}: "${field}" must be ${want}, got ${
        JSON.stringify(
          (e as Record<string, unknown> | null)?.[field],
        )
      }`,
    );
  if (typeof e !== "object" || e === null || Array.isArray(e)) {
    throw new SafetensorsError(file, `${name}: header entry must be an object`);
  }
  if (typeof e.dtype !== "string") throw bad("dtype", "a string");
  if (!(e.dtype in DTYPE_BYTES)) {
    throw new SafetensorsError(
      file,
      `${name}: dtype ${e.dtype} is not supported; save F32, F64, F16 or BF16 weights ` +
        `(I64 only for counters such as num_batches_tracked)`,
    );
  }
  if (!Array.isArray(e.shape) || !e.shape.every(isCount)) {
    throw bad("shape", "a list of non-negative integers");
  }
  const o = e.data_offsets;
  if (!Array.isArray(o) || o.length !== 2 || !o.every(isCount) || o[0] > o[1]) {
    throw bad("data_offsets", "[begin, end] with 0 <= begin <= end");
  }
  return e as HeaderEntry;
}

/**
 * Checks that the tensors' byte ranges tile the data exactly, as the format requires: no
 * overlap (two tensors would share weights), no gap and nothing after the last one.
 */
function checkLayout(file: string, ranges: [string, number, number][], length: number): void {
  ranges.sort((a, b) => a[1] - b[1] || a[2] - b[2]);
  let end = 0, last = "";
  for (const [name, begin, stop] of ranges) {
    if (begin < end) {
      throw new SafetensorsError(
        file,
        `${name}: byte range [${begin}, ${stop}) overlaps ${last}'s (ends at ${end})`,
      );
    }
    if (begin > end) {
      throw new SafetensorsError(file, `bytes [${end}, ${begin}) of the data belong to no tensor`);
    }
    [end, last] = [stop, name];
  }
  if (end !== length) {
    throw new SafetensorsError(
      file,
      `${length - end} bytes after the last tensor's data (it ends at ${end} of ${length})`,
    );
  }
}

/** Decodes a safetensors file's bytes; every tensor's values come back as float32. */
export function decodeSafetensors(
  file: string,
  bytes: Uint8Array,
): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new SafetensorsError(file, "too short for a safetensors header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Kept as a bigint: Number() would print a huge (corrupt) length rounded.
  const length = view.getBigUint64(0, true);
  if (length > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(
      file,
      `header length ${length} exceeds the file (${bytes.length} bytes)`,
    );
  }
  const n = Number(length);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(file, `header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError(file, "header must be a JSON object of tensors");
  }
  const data = bytes.subarray(8 + n);
  const tensors: Record<string, NamedTensor> = {};
  const metadata = checkMetadata(file, (header as Record<string, unknown>).__metadata__);
  const ranges: [string, number, number][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const entry = checkEntry(file, name, raw);
    const [begin, end] = entry.data_offsets;
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== DTYPE_BYTES[entry.dtype] * size || end > data.length) {
      throw new SafetensorsError(
        file,
        `${name}: byte range [${begin}, ${end}) does not fit shape [${entry.shape}] or the file`,
      );
    }
    ranges.push([name, begin, end]);
    tensors[name] = {
      shape: entry.shape,
      data: toFloat32(entry.dtype, data.subarray(begin, end)),
      dtype: entry.dtype,
    };
  }
  checkLayout(file, ranges, data.length);
  return { tensors, metadata };
}

/** The format's metadata: absent, or an object of strings. */
function checkMetadata(file: string, raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new SafetensorsError(file, "__metadata__ must be an object of strings");
  }
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== "string") {
      throw new SafetensorsError(
        file,
        `__metadata__.${key} must be a string, got ${JSON.stringify(value)}`,
      );
    }
  }
  return raw as Record<string, string>;
}
