/// <reference lib="dom" />
/**
 * The results page: a run folder of `deno task experiment` (served under /run/) shown as
 * interactive landscapes (heat map with hover values, or a surface to rotate by dragging),
 * Δk curves with standard-error bands, and the report's table of claims and verdicts.
 * @module
 */
import { csvNumber, parseCsv } from "../src/report/csv.ts";
import { deltaChart, type Series } from "./chart.ts";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"];

/** Text made safe to put into HTML. */
export const escape = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** A CSV file of the run as its header and rows. */
function table(text: string): { header: string[]; rows: string[][] } {
  const [header = [], ...rows] = parseCsv(text);
  return { header, rows };
}

async function fetchText(path: string): Promise<string> {
  const r = await fetch(`/run/${path}`);
  if (!r.ok) throw new Error(`/run/${path}: HTTP ${r.status}`);
  return await r.text();
}

/** A landscape on its grid. */
interface Grid {
  title: string;
  axis: number[];
  values: number[];
}

function toGrid(title: string, header: string[], rows: string[][]): Grid {
  const [ia, ib, il] = ["a", "b", "loss"].map((h) => header.indexOf(h));
  const as = [...new Set(rows.map((r) => Number(r[ia])))].sort((x, y) => x - y);
  const index = new Map(as.map((a, i) => [a, i]));
  const values = new Array(as.length * as.length).fill(NaN);
  for (const r of rows) {
    values[index.get(Number(r[ia]))! * as.length + index.get(Number(r[ib]))!] = csvNumber(r[il]);
  }
  return { title, axis: as, values };
}

/** Viridis-like colour ramp for t in [0, 1]. */
function ramp(t: number): string {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1), i = Math.floor(x), f = x - i;
  const c = stops[i].map((v, j) => Math.round(v + f * (stops[i + 1][j] - v)));
  return `rgb(${c.join(",")})`;
}

/** Heat map (log loss) with hover values, or a wireframe surface rotated by dragging. */
function landscapeFigure(grid: Grid): HTMLElement {
  const box = document.createElement("div");
  box.className = "figure";
  box.innerHTML = `<div><b>${escape(grid.title)}</b></div><div class="views">` +
    `<button data-view="map">contour map</button><button data-view="surface">surface</button></div>`;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 320;
  const hover = document.createElement("div");
  hover.className = "hover";
  box.append(canvas, hover);
  const n = grid.axis.length, ctx = canvas.getContext("2d")!;
  const finite = grid.values.filter(Number.isFinite);
  const logs = finite.map((v) => Math.log(Math.max(v, 1e-12)));
  const [lo, hi] = [Math.min(...logs), Math.max(...logs)];
  const level = (v: number) => (Math.log(Math.max(v, 1e-12)) - lo) / Math.max(1e-12, hi - lo);
  let view: "map" | "surface" = "map", yaw = -0.7, pitch = 0.6;
  const drawMap = () => {
    const cell = canvas.width / n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = grid.values[i * n + j];
        ctx.fillStyle = Number.isFinite(v) ? ramp(level(v)) : "#fff";
        // a along x, b along y (up).
        ctx.fillRect(i * cell, canvas.height - (j + 1) * cell, cell + 0.5, cell + 0.5);
      }
    }
    // Contours at 8 log levels: mark cells whose level band differs from a neighbour's.
    ctx.fillStyle = "rgba(255,255,255,0.75)";
    const band = (v: number) => Math.floor(level(v) * 8);
    for (let i = 0; i + 1 < n; i++) {
      for (let j = 0; j + 1 < n; j++) {
        const b = band(grid.values[i * n + j]);
        if (b !== band(grid.values[(i + 1) * n + j]) || b !== band(grid.values[i * n + j + 1])) {
          ctx.fillRect((i + 1) * cell - 1, canvas.height - (j + 1) * cell - 1, 2, 2);
        }
      }
    }
  };
  const drawSurface = () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const project = (i: number, j: number) => {
      const x = 2 * i / (n - 1) - 1, y = 2 * j / (n - 1) - 1;
      const z = 1.2 * level(grid.values[i * n + j]) - 0.6;
      const xr = x * Math.cos(yaw) - y * Math.sin(yaw), yr = x * Math.sin(yaw) + y * Math.cos(yaw);
      const sy = yr * Math.sin(pitch) - z * Math.cos(pitch);
      return [canvas.width / 2 + 110 * xr, canvas.height / 2 + 110 * sy];
    };
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        for (const [di, dj] of [[1, 0], [0, 1]]) {
          if (i + di >= n || j + dj >= n) continue;
          const [x0, y0] = project(i, j), [x1, y1] = project(i + di, j + dj);
          ctx.strokeStyle = ramp(level(grid.values[i * n + j]));
          ctx.beginPath();
          ctx.moveTo(x0, y0);
          ctx.lineTo(x1, y1);
          ctx.stroke();
        }
      }
    }
  };
  const draw = () => (view === "map" ? drawMap() : drawSurface());
  let drag: [number, number] | null = null;
  canvas.onmousedown = (e) => void (drag = [e.offsetX, e.offsetY]);
  canvas.onmouseup = canvas.onmouseleave = () => void (drag = null);
  canvas.onmousemove = (e) => {
    if (view === "surface" && drag) {
      yaw += (e.offsetX - drag[0]) / 100;
      pitch = Math.min(1.5, Math.max(0.05, pitch + (e.offsetY - drag[1]) / 100));
      drag = [e.offsetX, e.offsetY];
      draw();
    } else if (view === "map") {
      const cell = canvas.width / n;
      const i = Math.floor(e.offsetX / cell), j = Math.floor((canvas.height - e.offsetY) / cell);
      if (i >= 0 && i < n && j >= 0 && j < n) {
        hover.textContent = `a = ${grid.axis[i].toFixed(3)}, b = ${grid.axis[j].toFixed(3)}: ` +
          `loss ${grid.values[i * n + j].toPrecision(5)}`;
      }
    }
  };
  for (const b of box.querySelectorAll("button")) {
    b.addEventListener("click", () => {
      view = (b as HTMLButtonElement).dataset.view as "map" | "surface";
      hover.textContent = view === "surface" ? "drag to rotate" : "";
      draw();
    });
  }
  draw();
  return box;
}

function reportTable(report: { claims?: Record<string, unknown>[] }): string {
  const rows = (report.claims ?? []).map((c) =>
    `<tr><td>${escape(String(c.paper ?? c.id))}</td><td>${escape(String(c.measured ?? ""))}</td>` +
    `<td>${escape(String(c.verdict ?? ""))}</td></tr>`
  );
  return `<h3>Claims and verdicts</h3><table><thead><tr><th>the paper says</th><th>measured</th>` +
    `<th>verdict</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
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
    heading.textContent = `Run folder ${folder} (${files.length} files)`;
    let figures = 0;
    if (files.includes("report.json")) {
      out.insertAdjacentHTML("beforeend", reportTable(JSON.parse(await fetchText("report.json"))));
    }
    const csvs = files.filter((f) => f.endsWith(".csv"));
    const curves = new Map<string, Series[]>();
    const landscapes: Grid[] = [];
    for (const f of csvs) {
      const { header, rows } = table(await fetchText(f));
      const name = f.replace(/^.*\//, "").replace(/\.csv$/, "");
      if (header[0] === "a" && header[1] === "b" && header.includes("loss")) {
        landscapes.push(toGrid(name.replace(/^landscape_/, ""), header, rows));
      } else if (header.includes("k") && header.includes("delta")) {
        const [ik, id] = ["k", "delta"].map((h) => header.indexOf(h));
        const is = header.includes("delta_se") ? header.indexOf("delta_se") : header.indexOf("se");
        // rate-*, fig5-sigma-*, fig5-dim-*, delta: one chart per experiment.
        const group = /^(fig\d+-[a-z]+|[a-z]+)/.exec(name)?.[1] ?? name;
        const list = curves.get(group) ?? [];
        list.push({
          label: name,
          k: rows.map((r) => Number(r[ik])),
          delta: rows.map((r) => csvNumber(r[id])),
          se: is >= 0 ? rows.map((r) => csvNumber(r[is])) : undefined,
          color: COLORS[list.length % COLORS.length],
        });
        curves.set(group, list);
      }
    }
    if (curves.size > 0) out.insertAdjacentHTML("beforeend", "<h3>Δk curves (±1 SE)</h3>");
    for (const [group, series] of curves) {
      const div = document.createElement("div");
      div.className = "figure";
      div.innerHTML = `<div><b>${escape(group)}</b></div>${deltaChart(series)}`;
      out.append(div);
      figures++;
    }
    if (landscapes.length > 0) out.insertAdjacentHTML("beforeend", "<h3>Landscapes</h3>");
    for (const g of landscapes) {
      out.append(landscapeFigure(g));
      figures++;
    }
    return { files: files.length, figures };
  } catch (e) {
    const error = (e as Error).message;
    out.insertAdjacentHTML("beforeend", `<p class="error">${escape(error)}</p>`);
    return { files: 0, figures: 0, error };
  }
}
