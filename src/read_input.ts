/**
 * Reading an input file whole, where a missing or unreadable file becomes the caller's own error
 * naming the file (a DataError, a SafetensorsError, ...), never a raw OS error.
 * @module
 */

/** How readInput names its failures. */
export interface InputErrors {
  /** The reason given when the file does not exist, e.g. "checkpoint not found". */
  missing: string;
  /** Put before the OS's reason when the file exists but cannot be read (default none). */
  unreadable?: string;
  /** The error to throw for a reason. */
  error(reason: string): Error;
}

/** The bytes of `path`, or the caller's error naming why not. */
export async function readInput(path: string, errors: InputErrors): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw errors.error(
      e instanceof Deno.errors.NotFound
        ? errors.missing
        : `${errors.unreadable ?? ""}${(e as Error).message}`,
    );
  }
}

/** The text of `path` (UTF-8), or the caller's error naming why not. */
export async function readInputText(path: string, errors: InputErrors): Promise<string> {
  return new TextDecoder().decode(await readInput(path, errors));
}
