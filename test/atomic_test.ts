import assert from "node:assert/strict";
import { writeAllAtomic, writeAtomic, WriteError } from "../src/report/atomic.ts";

Deno.test("atomic writes: a failed write (a full disk) leaves no temporary file and no new file beside old ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/a.csv`, "old");
    // The second file's temporary name leads to /dev/full, where every write fails (ENOSPC).
    await Deno.symlink("/dev/full", `${dir}/b.png.${Deno.pid}.tmp`);
    await assert.rejects(
      () => writeAllAtomic([[`${dir}/a.csv`, "new"], [`${dir}/b.png`, new Uint8Array(10)]]),
      (e: unknown) => {
        assert.ok(e instanceof WriteError, String(e));
        assert.equal(
          e.message,
          `${dir}/b.png: cannot write: No space left on device (os error 28)`,
        );
        return true;
      },
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.csv"]);
    assert.equal(await Deno.readTextFile(`${dir}/a.csv`), "old", "all or none: a.csv unchanged");
    await Deno.symlink("/dev/full", `${dir}/c.json.${Deno.pid}.tmp`);
    await assert.rejects(() => writeAtomic(`${dir}/c.json`, "{}"), /c\.json: cannot write/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.csv"]);
    await writeAllAtomic([[`${dir}/a.csv`, "new"], [`${dir}/b.png`, new Uint8Array(10)]]);
    assert.equal(await Deno.readTextFile(`${dir}/a.csv`), "new");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
