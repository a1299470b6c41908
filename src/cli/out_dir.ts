/**
 * The output folder of a command (--out): made before any work, so problems with it are
 * reported against the option at once, and removed again when the command fails before
 * anything was written into it, so a failed run leaves no empty folder behind.
 * @module
 */
import { dirname } from "node:path";
import { osReason } from "../report/atomic.ts";
import { CliError } from "./options.ts";

/** Folders created by this process's command, outermost first. */
const created: string[] = [];

function kind(path: string): "folder" | "file" | "missing" {
  try {
    return Deno.statSync(path).isDirectory ? "folder" : "file";
  } catch {
    return "missing";
  }
}

/**
 * Checks that `dir` is, or can become, a folder: it and its nearest existing ancestor must not
 * be files. Returns the folders that creating it would make, outermost first.
 */
function checkOutDir(dir: string, option = "out"): string[] {
  const missing: string[] = [];
  let at = dir;
  for (;;) {
    const k = kind(at);
    if (k === "folder") return missing;
    if (k === "file") {
      throw new CliError(
        at === dir
          ? `--${option} "${dir}" is a file, not a folder; pass a folder`
          : `--${option} "${dir}" cannot be created: "${at}" is a file, not a folder`,
      );
    }
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) return missing;
    at = up;
  }
}

/** Creates `dir` (and its parents), reporting any failure against --`option`. */
export async function makeOutDir(dir: string, option = "out"): Promise<void> {
  const missing = checkOutDir(dir, option);
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new CliError(`--${option} "${dir}": cannot create the folder: ${osReason(e)}`);
  }
  created.push(...missing.filter((d) => !created.includes(d)));
}

/** Removes the folders under `dir` that hold no file, then `dir` itself if it is empty. */
async function prune(dir: string): Promise<void> {
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await prune(`${dir}/${e.name}`);
    }
    await Deno.remove(dir); // fails, as it should, when anything is left
  } catch {
    // not empty or already gone
  }
}

/**
 * After a failed command: removes the folders it created that hold no file, innermost first
 * (a folder holding anything, e.g. a resumable step's files, stays).
 */
export async function removeEmptyOutDirs(): Promise<void> {
  for (const d of created.splice(0).reverse()) await prune(d);
}

/** Starts a command: forgets the folders an earlier command in this process created. */
export function forgetOutDirs(): void {
  created.length = 0;
}
