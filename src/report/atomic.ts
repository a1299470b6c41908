/**
 * Writing files whole or not at all: into a temporary file named after the target and this
 * process, then renamed over it. Readers never see a partial file, and processes writing the
 * same file at once (shards sharing a run folder) never mix their bytes.
 * @module
 */

/** Writes `data` (text or bytes) to `path` atomically. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  if (typeof data === "string") await Deno.writeTextFile(tmp, data);
  else await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}
