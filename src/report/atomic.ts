/**
 * Writing files whole or not at all: into a temporary file named after the target and this
 * process, then renamed over it. Readers never see a partial file, and processes writing the
 * same file at once (shards sharing a run folder) never mix their bytes. A write that fails
 * (a full disk, a folder that went away) removes its temporary files before it throws.
 * @module
 */

/** Thrown when an output cannot be written; names the file and the reason. */
export class WriteError extends Error {
  /** An error about writing `file`. */
  constructor(readonly file: string, reason: string) {
    super(`${file}: cannot write: ${reason}`);
    this.name = "WriteError";
  }
}

/** The OS's reason without the temporary path Deno appends (": writefile '/x.123.tmp'"). */
export function osReason(e: unknown): string {
  return (e as Error).message.replace(/: \w+ '[^']*'(?: -> '[^']*')?$/, "");
}

/** Writes `data` (text or bytes) to `path` atomically. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await writeAllAtomic([[path, data]]);
}

/**
 * Writes several files all or none: every one into its temporary file first, and only when all
 * are written are they renamed into place, so a failure leaves neither a temporary file nor a
 * new file beside stale ones.
 */
export async function writeAllAtomic(files: [string, string | Uint8Array][]): Promise<void> {
  const staged: string[] = [];
  let current = files[0]?.[0] ?? "";
  try {
    for (const [path, data] of files) {
      current = path;
      const tmp = `${path}.${Deno.pid}.tmp`;
      staged.push(tmp);
      if (typeof data === "string") await Deno.writeTextFile(tmp, data);
      else await Deno.writeFile(tmp, data);
    }
    for (const [i, [path]] of files.entries()) {
      current = path;
      await Deno.rename(staged[i], path);
    }
  } catch (e) {
    await Promise.all(staged.map((tmp) => Deno.remove(tmp).catch(() => {})));
    throw new WriteError(current, osReason(e));
  }
}
