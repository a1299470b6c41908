/**
 * The IDX format of MNIST and Fashion-MNIST (optionally gzipped): a magic number 0x0000 08 NN
 * (unsigned bytes, NN dimensions), NN big-endian 32-bit sizes, then the bytes.
 * @module
 */
import { readInput } from "../read_input.ts";
import { DataError } from "./dataset.ts";

/** Reads a file's bytes; errors name the file. */
export function readBytes(path: string): Promise<Uint8Array> {
  return readInput(path, {
    missing: "file not found",
    unreadable: "cannot read: ",
    error: (reason) => new DataError(path, reason),
  });
}

/**
 * Reads `path`, or its other form when it is missing: without ".gz" for a gzipped name (the
 * file was gunzipped), with ".gz" otherwise. Returns the name actually read, for errors.
 */
export async function readEitherForm(path: string): Promise<{ name: string; bytes: Uint8Array }> {
  const other = path.endsWith(".gz") ? path.slice(0, -3) : `${path}.gz`;
  for (const name of [path, other]) {
    try {
      return { name, bytes: await Deno.readFile(name) };
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        throw new DataError(name, `cannot read: ${(e as Error).message}`);
      }
    }
  }
  throw new DataError(path, `file not found (nor ${other.slice(other.lastIndexOf("/") + 1)})`);
}

/** Reads a file, gunzipping when it is gzipped; errors name the file. */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  return await maybeGunzip(path, await readBytes(path));
}

/** Whether `bytes` start with gzip's magic number (IDX data starts with 0x00 0x00). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Gunzips `raw` when it is gzipped, whatever its name (a .gz file someone already gunzipped
 * reads as well), with any runtime's DecompressionStream (Deno, browsers); errors name `name`.
 */
export async function maybeGunzip(name: string, raw: Uint8Array): Promise<Uint8Array> {
  if (!isGzip(raw)) return raw;
  try {
    const stream = new Blob([raw as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
      new DecompressionStream("gzip"),
    );
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new DataError(name, `not a valid gzip file (${(e as Error).message})`);
  }
}

/** Parses IDX bytes with `dims` dimensions; returns the sizes and the data bytes. */
export function parseIdx(
  path: string,
  bytes: Uint8Array,
  dims: number,
): { sizes: number[]; data: Uint8Array } {
  const magic = 0x800 + dims;
  if (bytes.length < 4 + 4 * dims) {
    throw new DataError(path, `truncated: ${bytes.length} bytes, shorter than an IDX header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) {
    const hex = (v: number) => `0x${v.toString(16).padStart(8, "0")}`;
    throw new DataError(
      path,
      `wrong magic number ${hex(found)}, expected ${hex(magic)} (IDX unsigned bytes, ${dims}-D)`,
    );
  }
  const sizes = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = sizes.reduce((a, b) => a * b, 1);
  const data = bytes.subarray(4 + 4 * dims);
  if (data.length < expected) {
    throw new DataError(
      path,
      `truncated: header says [${
        sizes.join(" x ")
      }] = ${expected} bytes of data, file has ${data.length}`,
    );
  }
  if (data.length > expected) {
    throw new DataError(
      path,
      `${data.length - expected} bytes past the [${sizes.join(" x ")}] data the header declares`,
    );
  }
  return { sizes, data };
}

/** Checks every label is below `classes`. */
export function checkLabels(path: string, labels: Uint8Array, classes: number): void {
  const bad = labels.findIndex((l) => l >= classes);
  if (bad >= 0) {
    throw new DataError(path, `label ${labels[bad]} at index ${bad} is outside 0..${classes - 1}`);
  }
}
