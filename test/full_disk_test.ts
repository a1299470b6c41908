/**
 * A full disk, for real: the CLI runs in a child process whose file-size limit (ulimit -f,
 * with SIGXFSZ ignored so a write fails with EFBIG instead of killing the process) stops a
 * write part-way, as a full disk would. Every writer of temporary files is driven into it:
 * checkpoints (train), figures and PNG rendering (delta), shards (delta --shard). Each must exit
 * 1 with a message naming the file, and leave no temporary file or partial output behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cli } from "./cli_run.ts";
import { gpuTest } from "./helpers.ts";

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));

/** Runs the CLI with writes limited to `kib` KiB per file; returns its exit code and output. */
async function cliOnFullDisk(kib: number, args: string[]): Promise<{ code: number; out: string }> {
  const script = `trap '' XFSZ; ulimit -f ${kib}; exec "$@"`;
  const r = await new Deno.Command("bash", {
    args: ["-c", script, "bash", Deno.execPath(), "run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: r.code, out: text(r.stdout) + text(r.stderr) };
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory) out.push(...(await listFiles(p)));
  }
  return out.sort();
}

gpuTest(
  "a full disk: every writer fails with the file's name and leaves no temporary file",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "full disk " });
    try {
      const model = join(dir, "model");
      const small = ["--data", "synthetic", "--epochs", "1", "--layers", "1"];
      const trained = await cli("train", ...small, "--hidden", "8", "--out", model);
      assert.equal(trained.code, 0, trained.out);
      const checkpoint = join(model, "model.safetensors");
      const before = await listFiles(dir);
      const cases: { what: string; kib: number; args: string[]; file: RegExp }[] = [
        {
          what: "checkpoint (19 KiB)",
          kib: 8,
          args: ["train", ...small, "--hidden", "64", "--out", join(dir, "train out")],
          file: /train out\/model\.safetensors: cannot write: File too large/,
        },
        {
          what: "PNG (about 90 KiB) after the CSV and SVG were staged",
          kib: 40,
          args: [
            "delta",
            ...["--checkpoint", checkpoint, "--data", "synthetic", "--points", "4"],
            ...["--samples", "20", "--out", join(dir, "delta out")],
          ],
          file: /delta out\/delta\.png: cannot write: File too large/,
        },
        {
          what: "shard values (16 KB)",
          kib: 8,
          args: [
            "delta",
            ...["--checkpoint", checkpoint, "--data", "synthetic", "--points", "4"],
            ...["--samples", "2001", "--shard", "0/2", "--out", join(dir, "shard out")],
          ],
          file: /shard out\/shards\/shard-0-of-2: cannot write: File too large/,
        },
      ];
      for (const c of cases) {
        const r = await cliOnFullDisk(c.kib, c.args);
        assert.equal(r.code, 1, `${c.what}: ${r.out}`);
        assert.match(r.out, c.file, c.what);
        assert.doesNotMatch(r.out, /^\s+at .*:\d+:\d+\)?$/m, `${c.what}: no stack trace`);
        // Nothing left: no temporary file, no partial output, not even the empty --out folder.
        assert.deepEqual(await listFiles(dir), before, c.what);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
