import assert from "node:assert/strict";
import { loadCheckpoint } from "../src/files.ts";
import { gpuTest } from "./helpers.ts";

const root = new URL("../", import.meta.url);

/** The first TypeScript block of the README section headed `heading`. */
export function readmeBlock(readme: string, heading: string): string {
  const section = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(section >= 0, `README has no section "${heading}"`);
  const match = readme.slice(section).match(/\n```ts\n([\s\S]*?)\n```\n/);
  assert.ok(match, `README section "${heading}" has no ts block`);
  return match[1] + "\n";
}

gpuTest("the README's library example runs as written", async (gpu) => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const code = readmeBlock(readme, "Using the engine as a library");
  const dir = await Deno.makeTempDir({ prefix: "readme example " });
  try {
    // The block imports ./mod.ts and ./src/files.ts as a script in the repository would; an
    // import map sends those to the repository, so that it runs (and writes) in a scratch folder.
    const imports = Object.fromEntries(
      ["./mod.ts", "./src/files.ts"].map((f) => [f, new URL(f, root).href]),
    );
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ imports }));
    await Deno.writeTextFile(`${dir}/example.ts`, code);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", "--config", `${dir}/deno.json`, `${dir}/example.ts`],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const printed = stdout.match(/Δ_501 = (\S+), p = (\S+) \[(\S+),(\S+)\]/);
    assert.ok(printed, `unexpected output: ${stdout}`);
    for (const v of printed.slice(1)) assert.ok(Number.isFinite(Number(v)), `${v} in ${stdout}`);
    const saved = await loadCheckpoint(gpu, `${dir}/paper-mlp.safetensors`);
    assert.equal(saved.info.epochs, "1");
    saved.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readmeBlock finds the block of its section only", () => {
  const text =
    "# t\n\n## A\n\n```sh\nno\n```\n\n```ts\nconst a = 1;\n```\n\n## B\n\n```ts\nb\n```\n";
  assert.equal(readmeBlock(text, "A"), "const a = 1;\n");
  assert.equal(readmeBlock(text, "B"), "b\n");
  assert.throws(() => readmeBlock(text, "C"), /no section "C"/);
});
