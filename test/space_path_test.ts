/**
 * The engine run from a checkout whose path contains a space: module-relative paths (the
 * embedded data, the web page, the bundle's entry) must be file paths, not percent-encoded
 * URL paths.
 */
import assert from "node:assert/strict";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";

const REPO = fileURLToPath(new URL("..", import.meta.url));

/** Copies the sources into a fresh "landscape copy" folder (the data linked); returns it. */
async function checkoutWithSpace(): Promise<{ root: string; parent: string }> {
  const parent = await Deno.makeTempDir({ prefix: "space path " });
  const root = join(parent, "landscape copy");
  await Deno.mkdir(join(root, "data"), { recursive: true });
  await Deno.symlink(join(REPO, "data", "fashion-mnist"), join(root, "data", "fashion-mnist"));
  // Everything at the top but the data (linked), git's folder and outputs, so a new top-level
  // module is never missing from the copy.
  const skip = new Set([".git", "data", "runs", "out", "dist", "node_modules"]);
  for await (const e of Deno.readDir(REPO)) {
    if (!skip.has(e.name)) await copy(join(REPO, e.name), join(root, e.name));
  }
  return { root, parent };
}

async function copy(from: string, to: string): Promise<void> {
  if (!(await Deno.stat(from)).isDirectory) return await Deno.copyFile(from, to);
  await Deno.mkdir(to);
  for await (const e of Deno.readDir(from)) await copy(join(from, e.name), join(to, e.name));
}

const load = (root: string, path: string) => import(pathToFileURL(join(root, path)).href);

Deno.test({
  name: "from a folder whose path contains a space, the embedded data, the page and the bundle " +
    "are found",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { root, parent } = await checkoutWithSpace();
    try {
      const files = await load(root, "src/data/fashion_mnist_files.ts");
      assert.equal(files.EMBEDDED_FASHION_MNIST, join(root, "data", "fashion-mnist"));
      const { test } = await files.loadFashionMnist(files.EMBEDDED_FASHION_MNIST);
      assert.equal(test.labels.length, 2000);

      const { bundle } = await load(root, "src/bundle.ts");
      assert.match(await bundle(), /export\s*\{/);

      const { startServer } = await load(root, "src/serve.ts");
      const server = await startServer({ port: 0 });
      try {
        const page = await fetch(new URL("web/index.html", server.url));
        assert.equal(page.status, 200, await page.text());
        const app = await fetch(new URL("app.js", server.url));
        assert.equal(app.status, 200);
        assert.ok((await app.text()).length > 1000);
      } finally {
        await server.close();
      }
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});
