/**
 * `deno task serve` (src/serve.ts) as a browser and a user meet it, through fetch on 127.0.0.1
 * only: it reads nothing outside web/, the data and the run folder, answers malformed paths
 * and writing methods with 4xx, and its command line fails in one line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer } from "../src/serve.ts";
import { serveCli } from "./cli_run.ts";

Deno.test({
  name: "serve: links out of the run folder are not followed, malformed paths get 400 and " +
    "writing methods 405",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const parent = await Deno.makeTempDir({ prefix: "serve test " });
    const run = join(parent, "run dir");
    await Deno.mkdir(join(run, "figures"), { recursive: true });
    await Deno.writeTextFile(join(run, "report.md"), "# report");
    await Deno.writeTextFile(join(parent, "secret.txt"), "outside the run folder");
    await Deno.symlink(join(parent, "secret.txt"), join(run, "x"));
    await Deno.symlink(parent, join(run, "up"));
    await Deno.symlink(join(run, "report.md"), join(run, "figures", "same.md"));
    const server = await startServer({ port: 0, run });
    const get = async (path: string, init?: RequestInit) => {
      const r = await fetch(`${server.url}${path}`, init);
      return { status: r.status, body: await r.text(), allow: r.headers.get("allow") };
    };
    try {
      await t.step("a file of the run folder, and a link that stays inside it", async () => {
        assert.deepEqual(await get("run/report.md"), {
          status: 200,
          body: "# report",
          allow: null,
        });
        assert.equal((await get("run/figures/same.md")).body, "# report");
      });
      await t.step("links to a file or a folder outside it", async () => {
        for (const path of ["run/x", "run/up/secret.txt", "run/up/"]) {
          const r = await get(path);
          assert.equal(r.status, 404, path);
          assert.doesNotMatch(r.body, /outside the run folder/);
        }
        assert.deepEqual(JSON.parse((await get("run/")).body).files, ["report.md"]);
      });
      await t.step("malformed percent-encoding", async () => {
        for (const path of ["run/%E0%A4%A", "web/%E0%A4%A", "data/fashion-mnist/%ff"]) {
          const r = await get(path);
          assert.equal(r.status, 400, path);
          assert.match(r.body, /malformed percent-encoding/);
        }
      });
      await t.step("methods other than GET and HEAD", async () => {
        for (const method of ["POST", "DELETE", "PUT"]) {
          const r = await get("run/report.md", { method, body: method === "DELETE" ? null : "x" });
          assert.equal(r.status, 405, method);
          assert.equal(r.allow, "GET, HEAD");
          assert.doesNotMatch(r.body, /# report/);
        }
        const head = await fetch(`${server.url}run/report.md`, { method: "HEAD" });
        await head.body?.cancel();
        assert.equal(head.status, 200);
        assert.equal((await get("web/index.html")).status, 200);
      });
    } finally {
      await server.close();
      await Deno.remove(parent, { recursive: true });
    }
  },
});

Deno.test("serve --help prints its options and exits 0", async () => {
  const r = await serveCli("--help");
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^Usage: deno task serve \[options\]/);
  assert.match(r.out, /--port VALUE .*\[default: 8000\]/);
  assert.match(r.out, /--run VALUE/);
});

Deno.test({
  name: "serve on a port in use ends in one line naming the port, exit code 1",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = (busy.addr as Deno.NetAddr).port;
      const r = await serveCli("--port", String(port));
      assert.equal(r.code, 1, r.out);
      assert.equal(
        r.out,
        `error: port ${port} on 127.0.0.1 is in use; pick another with --port (0: any free one)\n`,
      );
    } finally {
      busy.close();
    }
  },
});
