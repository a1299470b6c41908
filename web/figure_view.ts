/// <reference lib="dom" />
/**
 * A figure of the report drawn live in the page: the same Vega-Lite / Vega spec that made its
 * SVG and PNG (src/plot/figures.ts), rendered by Vega as SVG, with the values under the pointer
 * shown beneath it (the specs' tooltips) and the surface's rotation signals bound to dragging.
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import type { FigureSpec } from "../src/plot/render.ts";

/** Formats a tooltip's value: numbers to 4 significant digits, fields as "name = value". */
function hoverText(value: unknown): string {
  const show = (v: unknown) =>
    typeof v === "number" ? Number(v.toPrecision(4)).toString() : String(v);
  if (value && typeof value === "object") {
    return Object.entries(value).map(([k, v]) => `${k} = ${show(v)}`).join(", ");
  }
  return value === undefined || value === null ? "" : show(value);
}

/** Draws `figure` into `box` (a hover line is appended under it); returns the view. */
export async function showFigure(box: HTMLElement, figure: FigureSpec): Promise<vega.View> {
  const spec = figure.kind === "vega-lite" ? vl.compile(figure.spec).spec : figure.spec;
  const chart = document.createElement("div");
  chart.className = "chart";
  const hover = document.createElement("div");
  hover.className = "hover";
  box.append(chart, hover);
  const view = new vega.View(vega.parse(spec), { renderer: "svg", container: chart, hover: true });
  view.tooltip((_handler: unknown, _event: unknown, _item: unknown, value: unknown) => {
    hover.textContent = hoverText(value);
  });
  await view.runAsync();
  return view;
}
