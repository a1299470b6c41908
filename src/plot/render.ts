/**
 * Figures: Vega-Lite or Vega specs rendered headless to SVG by Vega, and SVG rasterised to PNG
 * by resvg (WebAssembly). Text needs a font file: a system DejaVu or Liberation font is used
 * when present (Debian's fonts-dejavu-core), or the one `setFont` names.
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import { writeAllAtomic } from "../report/atomic.ts";
import { mathText } from "../report/math_text.ts";

/** A Vega-Lite spec (compiled to Vega) or a Vega spec. */
export type FigureSpec = { kind: "vega-lite"; spec: vl.TopLevelSpec } | {
  kind: "vega";
  spec: vega.Spec;
};

const FONT_CANDIDATES = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
  "/usr/share/fonts/TTF/DejaVuSans.ttf",
  "/System/Library/Fonts/Supplemental/Arial.ttf",
];

let fontPath: string | null | undefined;
let wasmReady: Promise<void> | undefined;

/** Uses the TrueType font at `path` for PNG text. */
export function setFont(path: string): void {
  fontPath = path;
}

function findFont(): string | null {
  if (fontPath !== undefined) return fontPath;
  for (const p of FONT_CANDIDATES) {
    try {
      Deno.statSync(p);
      return fontPath = p;
    } catch {
      // try the next
    }
  }
  return fontPath = null;
}

/** The font PNG text is drawn with, or null (PNGs then have no text). */
export function pngFont(): string | null {
  return findFont();
}

/**
 * Renumbers Vega's generated element ids (gradient_N, clipN, ...) in order of appearance:
 * Vega counts them per process, so the same figure would otherwise differ between runs.
 */
function stableIds(svg: string): string {
  const ids = new Map<string, string>();
  for (const [, id] of svg.matchAll(/\bid="((?:gradient_|clip|pattern_)\d+)"/g)) {
    if (!ids.has(id)) ids.set(id, `${id.replace(/\d+$/, "")}${ids.size}`);
  }
  if (ids.size === 0) return svg;
  const pattern = new RegExp(`\\b(${[...ids.keys()].join("|")})\\b`, "g");
  return svg.replace(pattern, (id) => ids.get(id)!);
}

/** SVG text of a figure (the same bytes for the same figure in any process). */
export async function renderSvg(figure: FigureSpec): Promise<string> {
  const spec = figure.kind === "vega-lite" ? vl.compile(figure.spec).spec : figure.spec;
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return stableIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/** PNG bytes of an SVG at `scale` times its size. */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  wasmReady ??= (async () => {
    const url = new URL(import.meta.resolve("@resvg/resvg-wasm/index_bg.wasm"));
    await initWasm(await Deno.readFile(url));
  })();
  await wasmReady;
  const font = findFont();
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: font
      ? {
        fontBuffers: [await Deno.readFile(font)],
        defaultFontFamily: "DejaVu Sans",
        loadSystemFonts: false,
      }
      : { loadSystemFonts: false },
  });
  const png = resvg.render().asPng();
  resvg.free();
  return png;
}

/** Every string of a spec (titles, labels, legend entries) with its TeX-like math in Unicode. */
function withMathText<T>(value: T): T {
  if (typeof value === "string") return mathText(value) as T;
  if (Array.isArray(value)) return value.map(withMathText) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, withMathText(v)]),
    ) as T;
  }
  return value;
}

/** `path`.vg.json holds the {@link FigureSpec} of `path`.svg, for pages that draw it live. */
export const FIGURE_SPEC = "vg.json";

/**
 * A figure's files, `path`.svg and `path`.png, and with `spec` its spec as `path`.vg.json,
 * which the results page draws interactively with the same Vega (nothing written yet).
 */
export async function figureFiles(
  path: string,
  figure: FigureSpec,
  { spec = false }: { spec?: boolean } = {},
): Promise<[string, string | Uint8Array][]> {
  const shown = withMathText(figure);
  const svg = await renderSvg(shown);
  return [
    [`${path}.svg`, svg],
    [`${path}.png`, await svgToPng(svg)],
    ...(spec ? [[`${path}.${FIGURE_SPEC}`, JSON.stringify(shown) + "\n"] as [string, string]] : []),
  ];
}

/**
 * Writes a run folder's figure: `path`.svg, `path`.png and its spec `path`.vg.json, all or
 * none (temporary files, then renames).
 */
export async function writeFigure(
  path: string,
  figure: FigureSpec,
): Promise<{ svg: string; png: string }> {
  await writeAllAtomic(await figureFiles(path, figure, { spec: true }));
  return { svg: `${path}.svg`, png: `${path}.png` };
}
