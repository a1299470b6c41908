/**
 * What Vega draws of a figure, read from its scenegraph (no rendering): the stroke of every
 * line mark, and the stroke and dash of every legend symbol, by the label they stand for.
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import type { FigureSpec } from "../src/plot/render.ts";

/** A node of Vega's scenegraph, as far as these tests read it. */
interface SceneNode {
  marktype?: string;
  role?: string;
  items?: SceneNode[];
  datum?: { series?: string; value?: string };
  stroke?: string;
  strokeDash?: number[];
}

/** The stroke of every line mark, and stroke and dash of every legend symbol, by their label. */
export async function figureStrokes(figure: FigureSpec) {
  const spec = figure.kind === "vega-lite" ? vl.compile(figure.spec).spec : figure.spec;
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  await view.runAsync();
  const lines = new Map<string, string>(), symbols = new Map<string, [string, boolean]>();
  const walk = (node: SceneNode) => {
    const item = node.items?.[0];
    if (node.marktype === "line" && node.role === "mark" && item) {
      lines.set(item.datum!.series!, item.stroke!);
    }
    if (node.role === "legend-symbol") {
      for (const s of node.items!) {
        symbols.set(s.datum!.value!, [s.stroke!, (s.strokeDash?.length ?? 0) > 0]);
      }
    }
    for (const child of node.items ?? []) walk(child);
  };
  walk((view.scenegraph() as unknown as { root: SceneNode }).root);
  view.finalize();
  return { lines, symbols };
}
