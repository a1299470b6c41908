/**
 * `deno task serve`: the web page (web/) on 127.0.0.1, with the engine bundled for the browser
 * at start-up, the embedded Fashion-MNIST subset for the live demo, and a run folder of
 * `deno task experiment` for the results page.
 *
 * Usage: deno task serve [--port 8000] [--run runs/default]
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bundleWithMap } from "./bundle.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  map: "application/json",
  json: "application/json",
  css: "text/css; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  gz: "application/gzip",
};

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** Port (0: any free one). */
  port?: number;
  /** Run folder served under /run/ (default none). */
  run?: string;
}

/** A running server. */
export interface Server {
  /** Its base URL, e.g. http://127.0.0.1:8000/. */
  url: string;
  /** Stops it. */
  close(): Promise<void>;
}

/** Resolves `rest` inside `base`, refusing paths that climb out of it. */
function inside(base: string, rest: string): string | null {
  const parts = decodeURIComponent(rest).split("/").filter((p) => p && p !== ".");
  if (parts.some((p) => p === "..")) return null;
  return [base, ...parts].join("/");
}

async function file(path: string | null): Promise<Response> {
  if (!path) return new Response("bad path", { status: 400 });
  try {
    const body = await Deno.readFile(path);
    const ext = path.slice(path.lastIndexOf(".") + 1);
    return new Response(body, {
      headers: { "content-type": TYPES[ext] ?? "application/octet-stream" },
    });
  } catch {
    return new Response("not found", { status: 404 });
  }
}

async function listing(dir: string): Promise<Response> {
  const files: string[] = [];
  async function walk(d: string, prefix: string) {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory && e.name !== "steps" && e.name !== "shards") {
        await walk(`${d}/${e.name}`, `${prefix}${e.name}/`);
      } else if (e.isFile && !e.name.endsWith(".tmp")) files.push(`${prefix}${e.name}`);
    }
  }
  try {
    await walk(dir, "");
  } catch {
    return Response.json({ error: `run folder ${dir} cannot be read` }, { status: 404 });
  }
  return Response.json({ folder: dir, files: files.sort() });
}

/** Starts the server; the page's script is bundled first (a few seconds). */
export async function startServer(options: ServeOptions = {}): Promise<Server> {
  const app = await bundleWithMap(`${ROOT}/web/app.ts`, "app.js.map");
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 8000, onListen: () => {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/" || path === "/index.html") return await file(`${ROOT}/web/index.html`);
      if (path === "/app.js") {
        return new Response(app.code, { headers: { "content-type": TYPES.js } });
      }
      if (path === "/app.js.map") {
        return new Response(app.map, { headers: { "content-type": TYPES.map } });
      }
      if (path.startsWith("/web/")) return await file(inside(`${ROOT}/web`, path.slice(5)));
      if (path.startsWith("/data/fashion-mnist/")) {
        return await file(inside(`${ROOT}/data/fashion-mnist`, path.slice(20)));
      }
      if (path === "/run/" || path === "/run") {
        return options.run
          ? await listing(options.run)
          : Response.json({ error: "no run folder: start with --run DIR" }, { status: 404 });
      }
      if (path.startsWith("/run/") && options.run) {
        return await file(inside(options.run, path.slice(5)));
      }
      return new Response("not found", { status: 404 });
    },
  );
  const { port } = server.addr as Deno.NetAddr;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.shutdown() };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { port: { type: "string", default: "8000" }, run: { type: "string" } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`error: --port must be an integer in [0, 65535], got "${values.port}"`);
    Deno.exit(2);
  }
  if (values.run) {
    try {
      if (!Deno.statSync(values.run).isDirectory) throw new Error();
    } catch {
      console.error(
        `error: --run "${values.run}" is not a folder (run deno task experiment first)`,
      );
      Deno.exit(2);
    }
  }
  const server = await startServer({ port, run: values.run });
  console.error(
    `serve: ${server.url}${values.run ? ` (run folder ${values.run})` : ""}; Ctrl-C stops`,
  );
}
