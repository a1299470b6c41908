import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

// deno doc's JSON, as far as these tests read it.
interface DocParam {
  kind: string;
  name?: string;
  left?: { name?: string };
}
interface DocFunction {
  params: DocParam[];
}
interface DocDeclaration {
  kind: string;
  def: {
    params?: DocParam[];
    methods?: { name: string; functionDef: DocFunction }[];
    properties?: { name: string; optional: boolean; jsDoc?: { doc?: string } }[];
  };
}
interface DocSymbol {
  name: string;
  declarations: DocDeclaration[];
}

/** The symbols a module exports (values and types), as `deno doc` describes them. */
async function exportedSymbols(file: string): Promise<DocSymbol[]> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["doc", "--json", file] }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const doc = JSON.parse(new TextDecoder().decode(out.stdout));
  const [module] = Object.values(doc.nodes) as { symbols: DocSymbol[] }[];
  return module.symbols;
}

/** The names a module exports. */
async function exportedNames(file: string): Promise<Set<string>> {
  return new Set((await exportedSymbols(file)).map((s) => s.name));
}

/** The local modules `file` imports, directly or not. */
async function moduleGraph(file: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json", file] }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  return (info.modules as { specifier: string }[]).map((m) => m.specifier)
    .filter((s) => s.startsWith("file:"));
}

const root = new URL("../", import.meta.url);

Deno.test("mod.ts is the research API: few names, no GPU internals", async () => {
  const names = await exportedNames(fileURLToPath(new URL("mod.ts", root)));
  // The research names (models, training, data, checkpoints, Δk and its analyses); file formats
  // are in ./formats, the engine's ~150 internals in ./kernels.
  assert.ok(names.size >= 40 && names.size <= 60, `mod.ts exports ${names.size} names`);
  for (const internal of ["BufferPool", "PipelineCache", "GEMM_TILE", "K_CHUNK", "Params"]) {
    assert.ok(!names.has(internal), `${internal} belongs in kernels.ts, not mod.ts`);
  }
  for (const research of ["Gpu", "mlp", "Sequential", "train", "estimateDelta", "fitRate"]) {
    assert.ok(names.has(research), `mod.ts lacks ${research}`);
  }
});

Deno.test("./formats carries the file formats as bytes, mod.ts none of them", async () => {
  const names = await exportedNames(fileURLToPath(new URL("src/formats.ts", root)));
  const research = await exportedNames(fileURLToPath(new URL("mod.ts", root)));
  for (const format of ["parseNpy", "encodeNpy", "parseCsvTable", "idxPair", "parseModelSpec"]) {
    assert.ok(names.has(format), `src/formats.ts lacks ${format}`);
    assert.ok(!research.has(format), `${format} belongs in src/formats.ts, not mod.ts`);
  }
});

Deno.test("mod.ts: no parameter with a default reads as required in deno doc", async () => {
  const defaulted: string[] = [];
  for (const symbol of await exportedSymbols(fileURLToPath(new URL("mod.ts", root)))) {
    for (const decl of symbol.declarations) {
      const functions: [string, DocParam[]][] = decl.kind === "function"
        ? [[symbol.name, decl.def.params ?? []]]
        : decl.kind === "class"
        ? (decl.def.methods ?? []).map((m) => [`${symbol.name}.${m.name}`, m.functionDef.params])
        : [];
      for (const [name, params] of functions) {
        for (const p of params) if (p.kind === "assign") defaulted.push(`${name}(${p.left?.name})`);
      }
    }
  }
  assert.deepEqual(defaulted, [], "write these as optional parameters with a documented default");
});

Deno.test("mod.ts: every optional option states its default", async () => {
  const silent: string[] = [];
  for (const symbol of await exportedSymbols(fileURLToPath(new URL("mod.ts", root)))) {
    if (!symbol.name.endsWith("Options")) continue;
    for (const decl of symbol.declarations) {
      for (const p of decl.def.properties ?? []) {
        if (p.optional && !/default/i.test(p.jsDoc?.doc ?? "")) {
          silent.push(`${symbol.name}.${p.name}`);
        }
      }
    }
  }
  assert.deepEqual(silent, [], "optional options whose JSDoc does not say their default");
});

Deno.test("kernels.ts carries the engine's internals", async () => {
  const names = await exportedNames(fileURLToPath(new URL("kernels.ts", root)));
  for (const internal of ["BufferPool", "PipelineCache", "GEMM_TILE", "setGemmVariant", "wgsl"]) {
    assert.ok(names.has(internal), `kernels.ts lacks ${internal}`);
  }
});

Deno.test("the library modules do not reach into the command line's code", async () => {
  for (const entry of ["mod.ts", "kernels.ts", "src/files.ts", "src/formats.ts"]) {
    const cli = (await moduleGraph(fileURLToPath(new URL(entry, root))))
      .filter((s) => s.includes("/src/cli/") || s.endsWith("/src/cli.ts"));
    assert.deepEqual(cli, [], `${entry} imports command-line modules`);
  }
});

Deno.test("kernels take the folded workgroup index from shaders/invocation.wgsl", async () => {
  const spelled: string[] = [];
  for await (const entry of Deno.readDir(new URL("shaders/", root))) {
    if (!entry.name.endsWith(".wgsl") || entry.name === "invocation.wgsl") continue;
    const text = await Deno.readTextFile(new URL(`shaders/${entry.name}`, root));
    const code = text.replace(/\/\/[^\n]*/g, "");
    if (/wid\.x\s*\+\s*wid\.y\s*\*\s*nwg\.x/.test(code)) spelled.push(entry.name);
  }
  assert.deepEqual(spelled, [], "shaders that fold the workgroup index themselves");
});
