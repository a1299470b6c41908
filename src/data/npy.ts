/**
 * NumPy's .npy format (version 1 to 3): the magic "\x93NUMPY", a version, a little-endian
 * header length, a Python-literal header {'descr', 'fortran_order', 'shape'}, then the values.
 * Read here for the dtypes users' arrays come in, as float64 values (labels and images both fit
 * exactly; 64-bit integers beyond 2^53 are refused).
 * @module
 */
import { DataError } from "./dataset.ts";

/** An array read from a .npy file. */
export interface NpyArray {
  /** NumPy's dtype string, e.g. "<f4". */
  dtype: string;
  /** Extents, outermost first. */
  shape: number[];
  /** The values in C order. */
  data: Float64Array;
}

/** Bytes per value and reader of each supported dtype (little-endian, or byte-sized). */
const DTYPES: Record<string, [number, (v: DataView, at: number) => number]> = {
  "<f4": [4, (v, at) => v.getFloat32(at, true)],
  "<f8": [8, (v, at) => v.getFloat64(at, true)],
  "|u1": [1, (v, at) => v.getUint8(at)],
  "|i1": [1, (v, at) => v.getInt8(at)],
  "<i4": [4, (v, at) => v.getInt32(at, true)],
  "<i8": [8, (v, at) => Number(v.getBigInt64(at, true))],
  "<u8": [8, (v, at) => Number(v.getBigUint64(at, true))],
};

/** NumPy's names for the supported dtypes, for messages. */
const NAMES: Record<string, string> = {
  "<f4": "float32",
  "<f8": "float64",
  "|u1": "uint8",
  "|i1": "int8",
  "<i4": "int32",
  "<i8": "int64",
  "<u8": "uint64",
};

/** Parses a .npy file's bytes; `file` names it in errors. */
export function parseNpy(file: string, bytes: Uint8Array): NpyArray {
  const magic = [0x93, ..."NUMPY"].map((c) => typeof c === "number" ? c : c.charCodeAt(0));
  if (bytes.length < 10 || magic.some((c, i) => bytes[i] !== c)) {
    throw new DataError(file, "not a .npy file (save it with numpy.save)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const wide = major >= 2;
  const length = wide ? view.getUint32(8, true) : view.getUint16(8, true);
  const start = (wide ? 12 : 10) + length;
  if (start > bytes.length) throw new DataError(file, "the .npy header runs past the file's end");
  const header = new TextDecoder().decode(bytes.subarray(wide ? 12 : 10, start));
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new DataError(file, `the .npy header is not a numpy array header: ${header.trim()}`);
  }
  const kind = descr === "<u1" || descr === "u1" ? "|u1" : descr === "<i1" ? "|i1" : descr;
  const reader = DTYPES[kind];
  if (descr === "|O") {
    throw new DataError(
      file,
      "holds Python objects (a ragged array?); every sample must have the same shape: save " +
        "numpy.stack(samples).astype(numpy.float32)",
    );
  }
  if (!reader) {
    throw new DataError(
      file,
      `dtype ${descr} is not supported; save it as float32, uint8 or int64 (e.g. ` +
        `x.astype(numpy.float32)); readable: ${Object.values(NAMES).join(", ")}`,
    );
  }
  if (fortran === "True") {
    throw new DataError(file, "is in Fortran order; save numpy.ascontiguousarray(x) instead");
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  const [width, read] = reader;
  if (bytes.length - start !== size * width) {
    throw new DataError(
      file,
      `holds ${bytes.length - start} bytes of data, shape (${shape.join(", ")}) of ${
        NAMES[kind]
      } needs ${size * width}`,
    );
  }
  const data = new Float64Array(size);
  for (let i = 0; i < size; i++) data[i] = read(view, start + i * width);
  if (kind === "<i8" || kind === "<u8") {
    const at = data.findIndex((v) => !Number.isSafeInteger(v));
    if (at >= 0) throw new DataError(file, `value ${data[at]} at index ${at} is too large`);
  }
  return { dtype: NAMES[kind], shape, data };
}

/**
 * The bytes of a .npy file (version 1) holding `data` with `shape` as float32 or uint8.
 * @param dtype The element type written (default "float32").
 */
export function encodeNpy(
  shape: number[],
  data: ArrayLike<number>,
  dtype?: "float32" | "uint8" | "int64",
): Uint8Array {
  dtype ??= "float32";
  const descr = { float32: "<f4", uint8: "|u1", int64: "<i8" }[dtype];
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n"; // data 64-byte aligned
  const width = DTYPES[descr][0];
  const out = new Uint8Array(10 + header.length + data.length * width);
  out.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0]);
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const at = 10 + header.length;
  for (let i = 0; i < data.length; i++) {
    if (dtype === "float32") view.setFloat32(at + 4 * i, data[i], true);
    else if (dtype === "uint8") view.setUint8(at + i, data[i]);
    else view.setBigInt64(at + 8 * i, BigInt(data[i]), true);
  }
  return out;
}
