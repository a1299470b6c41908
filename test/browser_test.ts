/// <reference lib="dom" />
/**
 * The engine in a browser: Debian's Chromium, headless, driven by playwright-core, on its own
 * WebGPU adapter (SwiftShader without a GPU). The page loads the bundled engine, runs the
 * kernel checks against the float64 references, runs the live demo to a finite Δk curve, and
 * renders a run folder of the tiny preset as its report, every figure live with the axis titles
 * of the report's own picture and every link resolving; a screenshot is kept in
 * out/test-artifacts/.
 * Needs Chromium (`apt-get install chromium`, or CHROMIUM_PATH); the test task's preflight
 * installs it on Debian as root and otherwise names the command.
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { fileURLToPath } from "node:url";
import { findChromium, missingMessage, TEST_TOOLS } from "../src/test_tools.ts";
import { main } from "../src/cli.ts";
import { startServer } from "../src/serve.ts";

const ARTIFACTS = fileURLToPath(new URL("../out/test-artifacts", import.meta.url));

function chromiumPath(): string {
  const path = findChromium();
  if (!path) throw new Error(missingMessage(TEST_TOOLS[0])); // a missing browser fails, never skips
  return path;
}

function launchArgs(): string[] {
  const args = [
    "--enable-unsafe-webgpu",
    // No network: everything comes from the local server.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ];
  if (Deno.uid?.() === 0) args.push("--no-sandbox"); // Chromium refuses to sandbox as root
  return args;
}

interface PageState {
  status: string;
  adapter?: string;
  error?: string;
  checks?: {
    name: string;
    ok: boolean;
    error?: string;
    closest?: { error: number; bound: number };
  }[];
  demo?: {
    testAccuracy: number;
    curve: { k: number[]; delta: number[] };
    finite: boolean;
    fit: { p: number } | null;
  };
  demoError?: string;
  results?: { files: number; figures: number; error?: string };
}

/**
 * Every figure of the run's report is drawn on the page from its spec, with the axis titles
 * of the report's SVG; every link of the results resolves; a landscape map shows hover values
 * and a surface turns when dragged.
 */
async function assertReportOnPage(page: Page, run: string): Promise<void> {
  const { blocks } = JSON.parse(await Deno.readTextFile(`${run}/report.blocks.json`)) as {
    blocks: { kind: string; path?: string }[];
  };
  const figures = blocks.filter((b) => b.kind === "image").map((b) =>
    b.path!.replace(/\.png$/, "")
  );
  assert.ok(figures.length >= 20, `${figures.length} figures in the report`);
  const seen = await page.evaluate(async (paths: string[]) => {
    const titles = (root: ParentNode) =>
      [...root.querySelectorAll(".role-axis-title text, .role-legend-title text")]
        .map((t) => t.textContent).join(" | ");
    const out = [];
    for (const path of paths) {
      const live = document.querySelector(`figure.drawn[data-figure="${path}"] svg`);
      const svg = await (await fetch(`/run/${path}.svg`)).text();
      const report = new DOMParser().parseFromString(svg, "image/svg+xml");
      out.push({ path, live: live ? titles(live) : null, report: titles(report) });
    }
    return out;
  }, figures);
  for (const f of seen) {
    assert.notEqual(f.live, null, `${f.path}: not drawn on the page`);
    assert.equal(f.live, f.report, `${f.path}: axis and legend titles on the page vs report`);
  }
  assert.ok(seen.some((f) => /a \(direction 1\)/.test(f.report)), "landscape axes titled");
  assert.ok(seen.some((f) => /^k \(samples\)/.test(f.report)), "Δk axes titled");

  const links = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLAnchorElement>("#results-section a[href]")].map((a) => a.href)
  );
  const listed = (await (await page.request.get(new URL("/run/", page.url()).href)).json()).files;
  for (const f of listed.filter((f: string) => /\.(csv|png|svg)$|^report\.html$/.test(f))) {
    assert.ok(links.some((l) => l.endsWith(`/run/${f}`)), `no link to ${f}`);
  }
  for (const href of new Set(links)) {
    const r = await page.request.get(href);
    assert.equal(r.status(), 200, `link ${href}: HTTP ${r.status()}`);
  }

  // The surface turns when dragged.
  const surface = page.locator("figure.drawn[data-figure^='landscapes/surface_'] svg").first();
  await surface.scrollIntoViewIfNeeded();
  const drawing = () => surface.evaluate((svg) => svg.querySelector(".role-mark")!.innerHTML);
  const before = await drawing();
  const box = (await surface.boundingBox())!;
  await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 3 + 80, box.y + box.height / 2 + 30, { steps: 5 });
  await page.mouse.up();
  assert.notEqual(await drawing(), before, "dragging the surface turned it");

  // Hover values on a landscape map: the cell under the pointer, named.
  const cell = page.locator("figure.drawn[data-figure^='landscapes/landscape_'] path[fill]")
    .first();
  await cell.scrollIntoViewIfNeeded();
  await cell.hover({ force: true });
  const hover = page.locator("figure.drawn[data-figure^='landscapes/landscape_'] .hover").first();
  await page.waitForFunction((el) => !!el?.textContent, await hover.elementHandle());
  assert.match((await hover.textContent())!, /^a = -?[\d.]+, b = -?[\d.]+, loss = [\d.e+-]+$/);
}

Deno.test({
  name: "in headless Chromium the engine passes its kernel checks within their bounds, the demo " +
    "gives a finite Δk curve, and a tiny run's report is on the page, every figure live with its " +
    "axis titles and every link resolving, without console errors",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const run = await Deno.makeTempDir();
    const quietly = async (args: string[]) => {
      const saved = [console.log, console.error];
      console.log = console.error = () => {};
      try {
        return await main(args);
      } finally {
        [console.log, console.error] = saved;
      }
    };
    assert.equal(await quietly(["all", "--preset", "tiny", "--out", run]), 0);
    const server = await startServer({ port: 0, run });
    const launch = (args: string[]) =>
      chromium.launch({ executablePath: chromiumPath(), args, headless: true });
    // Containers without user namespaces give Chromium no usable sandbox; the page only talks
    // to the local server, so run it unsandboxed there.
    const browser = await launch(launchArgs()).catch((e: Error) => {
      if (!/sandbox/i.test(e.message)) throw e;
      return launch([...launchArgs(), "--no-sandbox"]);
    });
    const problems: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") {
          problems.push(`${m.type()}: ${m.text()}`);
        }
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      await page.goto(`${server.url}?checks&demo=quick`);
      await page.waitForFunction(
        () => {
          const s = (globalThis as unknown as { landscape?: PageState }).landscape;
          return !!s && s.results !== undefined &&
            (s.status === "no-webgpu" || s.status === "error" || !!s.demo || !!s.demoError);
        },
        null,
        { timeout: 240_000, polling: 500 },
      );
      const state = await page.evaluate(() =>
        (globalThis as unknown as { landscape: PageState }).landscape
      );
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/browser.png`, fullPage: true });

      assert.equal(
        state.status,
        "ready",
        `WebGPU in Chromium: ${state.status} ${state.error ?? ""}`,
      );
      assert.ok(state.checks && state.checks.length >= 6, "kernel checks ran");
      for (const c of state.checks!) {
        assert.ok(c.ok, `${c.name}: ${c.error}`);
        // Each reports the element closest to its bound (c.ok already holds every error to it).
        assert.ok(c.closest && c.closest.bound > 0, `${c.name}: ${JSON.stringify(c.closest)}`);
      }
      const shown = await page.locator("#checks tbody tr td:nth-child(3)").allTextContents();
      assert.equal(shown.length, state.checks!.length);
      for (const t of shown) assert.match(t, /^\d\.\d\de[-+]\d+ ≤ \d\.\d\de[-+]\d+$/);
      assert.equal(state.demoError, undefined, state.demoError);
      const demo = state.demo!;
      assert.ok(demo.curve.k.length > 100, "a Δk curve over k");
      assert.ok(demo.finite && demo.curve.delta.every((d) => Number.isFinite(d) && d >= 0));
      assert.ok(demo.testAccuracy > 0.2, `demo test accuracy ${demo.testAccuracy}`);
      assert.equal(state.results?.error, undefined, state.results?.error);
      assert.ok(
        state.results!.files > 10 && state.results!.figures >= 5,
        JSON.stringify(state.results),
      );
      await assertReportOnPage(page, run);
      assert.deepEqual(problems, [], "console errors or warnings");
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(run, { recursive: true });
    }
  },
});
