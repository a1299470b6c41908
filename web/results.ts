/// <reference lib="dom" />
/**
 * The results page: a run folder of `deno task experiment` (served under /run/) shown as its
 * report, drawn from the report's own blocks (report.blocks.json) with the same HTML as
 * report.html, each figure replaced by a live view of the spec that made its PNG (hover values,
 * the surface rotated by dragging), and a link to every file of the run.
 * @module
 */
import { type Block, blockHtml, escapeHtml } from "../src/report/document.ts";
import type { FigureSpec } from "../src/plot/render.ts";
import { showFigure } from "./figure_view.ts";

/** The report's blocks, as `writeReport` saves them for this page. */
const REPORT_DOCUMENT = "report.blocks.json";
/** A figure's spec beside its SVG and PNG (src/plot/render.ts). */
const FIGURE_SPEC = "vg.json";

/** URL of a run file (each path segment percent-encoded). */
const runUrl = (path: string) => `/run/${path.split("/").map(encodeURIComponent).join("/")}`;

async function fetchJson<T>(path: string): Promise<T> {
  const r = await fetch(runUrl(path));
  if (!r.ok) throw new Error(`${path} of the run folder: HTTP ${r.status}`);
  return await r.json() as T;
}

/** Links to every file of the run but the raw specs, grouped by folder. */
function fileLinks(files: string[]): string {
  const groups = new Map<string, string[]>();
  for (const f of files.filter((f) => !f.endsWith(`.${FIGURE_SPEC}`))) {
    const dir = f.includes("/") ? f.slice(0, f.lastIndexOf("/")) : ".";
    groups.set(dir, [...groups.get(dir) ?? [], f]);
  }
  const rows = [...groups].map(([dir, list]) =>
    `<li><b>${escapeHtml(dir === "." ? "run folder" : `${dir}/`)}</b> ` +
    list.map((f) =>
      `<a href="${escapeHtml(runUrl(f))}">${escapeHtml(f.slice(f.lastIndexOf("/") + 1))}</a>`
    )
      .join(" · ") +
    "</li>"
  );
  return `<h2>Files of this run</h2><ul class="files">${rows.join("")}</ul>`;
}

/** Replaces each figure's picture by a live view of its spec; returns how many it drew. */
async function liveFigures(out: HTMLElement, files: Set<string>): Promise<number> {
  let drawn = 0;
  for (const figure of out.querySelectorAll<HTMLElement>("figure[data-figure]")) {
    const spec = `${figure.dataset.figure}.${FIGURE_SPEC}`;
    if (!files.has(spec)) continue; // a run from before specs were saved: its PNG stays
    const box = document.createElement("div");
    box.className = "live";
    figure.querySelector("img")!.replaceWith(box);
    await showFigure(box, await fetchJson<FigureSpec>(spec));
    figure.classList.add("drawn");
    drawn++;
  }
  return drawn;
}

/**
 * Shows the served run folder, if any; returns how many files and figures it showed (hides
 * the section when the server has no run folder).
 */
export async function showResults(
  section: HTMLElement,
  heading: HTMLElement,
  out: HTMLElement,
): Promise<{ files: number; figures: number; error?: string }> {
  const r = await fetch("/run/");
  if (!r.ok) return { files: 0, figures: 0 };
  section.hidden = false;
  try {
    const { folder, files } = await r.json() as { folder: string; files: string[] };
    heading.innerHTML = `Run folder <code>${escapeHtml(folder)}</code> (${files.length} files): ` +
      (files.includes("report.html")
        ? `<a href="${runUrl("report.html")}">report.html</a>`
        : "no report yet");
    let figures = 0;
    if (files.includes(REPORT_DOCUMENT)) {
      const { blocks } = await fetchJson<{ blocks: Block[] }>(REPORT_DOCUMENT);
      // The report's own title is the section's heading here.
      out.innerHTML = blocks.filter((b) => !(b.kind === "heading" && b.level === 1))
        .map((b) => blockHtml(b, "/run/")).join("\n");
      figures = await liveFigures(out, new Set(files));
    } else {
      out.innerHTML = `<p>This folder has no ${REPORT_DOCUMENT}: rewrite its report with ` +
        `<code>deno task experiment report --out ${escapeHtml(folder)}</code>.</p>`;
    }
    out.insertAdjacentHTML("beforeend", fileLinks(files));
    return { files: files.length, figures };
  } catch (e) {
    const error = (e as Error).message;
    out.insertAdjacentHTML("beforeend", `<p class="error">${escapeHtml(error)}</p>`);
    return { files: 0, figures: 0, error };
  }
}
