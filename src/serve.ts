/**
 * `deno task serve`: the web page (web/) on 127.0.0.1, with the engine bundled for the browser
 * at start-up, the embedded Fashion-MNIST subset for the live demo, and a run folder of
 * `deno task experiment` for the results page. It only reads: GET and HEAD, and only files whose
 * real path (links resolved) lies inside the folder they are served from.
 *
 * Usage: deno task serve [--port 8000] [--run runs/default]
 * @module
 */
import { fileURLToPath } from "node:url";
import { type Bundle, bundleWithMap } from "./bundle.ts";
import { CliError, helpText, opt, parseOptions } from "./cli/options.ts";

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

const text = (body: string, status: number, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { "content-type": "text/plain", ...headers } });

/**
 * The file at URL path `rest` (percent-encoded) under `base`: 400 for a malformed or climbing
 * path, 404 for anything missing or whose real path is outside `base` (a link out of it).
 */
async function file(base: string, rest: string): Promise<Response> {
  let parts: string[];
  try {
    parts = decodeURIComponent(rest).split("/").filter((p) => p && p !== ".");
  } catch {
    return text("bad path: malformed percent-encoding", 400);
  }
  if (parts.some((p) => p === "..")) return text("bad path", 400);
  try {
    const [real, root] = await Promise.all([
      Deno.realPath([base, ...parts].join("/")),
      Deno.realPath(base),
    ]);
    if (!real.startsWith(root.endsWith("/") ? root : `${root}/`)) return text("not found", 404);
    const body = await Deno.readFile(real);
    const ext = real.slice(real.lastIndexOf(".") + 1);
    return new Response(body, {
      headers: { "content-type": TYPES[ext] ?? "application/octet-stream" },
    });
  } catch {
    return text("not found", 404);
  }
}

async function listing(dir: string): Promise<Response> {
  const files: string[] = [];
  async function walk(d: string, prefix: string) {
    // Links are neither listed nor followed (readDir reports them as neither file nor folder).
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

/**
 * Starts the server: it listens first (so a port in use fails at once, with Deno's
 * `AddrInUse`), then bundles the page's script (a few seconds) before returning.
 */
export async function startServer(options: ServeOptions = {}): Promise<Server> {
  const { run } = options;
  // Requests may arrive while the page's script is still being bundled: they wait for it.
  const app = Promise.withResolvers<Bundle>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 8000, onListen: () => {} },
    async (req) => {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return text(`${req.method} not allowed: this server only reads`, 405, {
          allow: "GET, HEAD",
        });
      }
      const path = new URL(req.url).pathname;
      if (path === "/" || path === "/index.html") return await file(`${ROOT}/web`, "index.html");
      if (path === "/app.js") {
        return new Response((await app.promise).code, { headers: { "content-type": TYPES.js } });
      }
      if (path === "/app.js.map") {
        return new Response((await app.promise).map, { headers: { "content-type": TYPES.map } });
      }
      if (path.startsWith("/web/")) return await file(`${ROOT}/web`, path.slice(5));
      if (path.startsWith("/data/fashion-mnist/")) {
        return await file(`${ROOT}/data/fashion-mnist`, path.slice(20));
      }
      if (path === "/run/" || path === "/run") {
        return run
          ? await listing(run)
          : Response.json({ error: "no run folder: start with --run DIR" }, { status: 404 });
      }
      if (path.startsWith("/run/") && run) return await file(run, path.slice(5));
      return text("not found", 404);
    },
  );
  bundleWithMap(`${ROOT}/web/app.ts`, "app.js.map", { minify: true }).then(app.resolve, app.reject);
  try {
    await app.promise;
  } catch (e) {
    await server.shutdown();
    throw e;
  }
  const { port } = server.addr as Deno.NetAddr;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.shutdown() };
}

const PROGRAM = "deno task serve";

/** Options of `deno task serve`. */
export const serveOptions = {
  port: opt.int("port on 127.0.0.1 (0: any free one)", 8000, 0, 65535),
  run: opt.str("a run folder of deno task experiment, for the results page"),
};

/**
 * `deno task serve` with `args`: the exit code, and the server when it started (it then runs
 * until closed). Usage errors exit 2, anything else that stops it from starting 1, each with
 * one line on stderr.
 */
export async function serveMain(args: string[]): Promise<{ code: number; server?: Server }> {
  if (args.includes("--help") || args.includes("-h")) {
    const summary = "Serve the web page: kernel checks, live demo, and a run folder's results.";
    console.log(helpText(`Usage: ${PROGRAM} [options]`, summary, serveOptions));
    return { code: 0 };
  }
  let port = 8000;
  try {
    const o = parseOptions(args, serveOptions);
    port = o.port;
    if (o.run !== undefined && !isFolder(o.run)) {
      throw new CliError(`--run "${o.run}" is not a folder (run deno task experiment first)`);
    }
    const server = await startServer({ port: o.port, run: o.run });
    console.error(`serve: ${server.url}${o.run ? ` (run folder ${o.run})` : ""}; Ctrl-C stops`);
    return { code: 0, server };
  } catch (e) {
    if (e instanceof CliError) {
      console.error(`error: ${e.message}\nRun '${PROGRAM} --help' for usage.`);
      return { code: 2 };
    }
    if (e instanceof Deno.errors.AddrInUse) {
      console.error(
        `error: port ${port} on 127.0.0.1 is in use; pick another with --port (0: any free one)`,
      );
    } else console.error(`error: ${(e as Error).message}`);
    return { code: 1 };
  }
}

function isFolder(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const { code, server } = await serveMain(Deno.args);
  if (!server) Deno.exit(code);
}
