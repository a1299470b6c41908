/**
 * The figure kinds of the report, as Vega-Lite / Vega specs: Δk curves on log-log axes with
 * error bands, grid heat maps with contour lines, wireframe surfaces that turn when dragged, and
 * bar charts with error bars. Geometry (cell positions, the surface's projection as signal
 * expressions) is computed here; Vega draws everything.
 * @module
 */
import type { FigureSpec } from "./render.ts";
import type * as vl from "vega-lite";

const FONT = "DejaVu Sans";
const CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
};

/** The head every hand-written Vega spec shares: schema, title, size and fonts. */
function vegaHead(title: string, width: number, height: number) {
  return {
    $schema: "https://vega.github.io/schema/vega/v6.json",
    title: { text: title, font: FONT },
    width,
    height,
    padding: 8,
    config: {
      text: { font: FONT },
      axis: { labelFont: FONT, titleFont: FONT },
      legend: { labelFont: FONT, titleFont: FONT },
    },
  };
}

/** One Δk curve. */
export interface CurveSeries {
  label: string;
  /** Which quantity of the series this line is (e.g. Δk or one of its terms): its dash. */
  term?: string;
  k: ArrayLike<number>;
  delta: ArrayLike<number>;
  se?: ArrayLike<number>;
}

/** A fitted power law C k^-p drawn over [kFrom, kTo], dashed, in the colour of its curve. */
export interface FitLine {
  label: string;
  /** The label of the series it fits. */
  curve: string;
  p: number;
  c: number;
  kFrom: number;
  kTo: number;
}

/** Picks at most `max` roughly log-spaced indices (plots of 10^5 points are unreadable). */
function thin(n: number, k: ArrayLike<number>, max = 400): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out = new Set<number>();
  const lo = Math.log(k[0]), hi = Math.log(k[n - 1]);
  let j = 0;
  for (let s = 0; s < max; s++) {
    const target = Math.exp(lo + (hi - lo) * s / (max - 1));
    while (j < n - 1 && k[j] < target) j++;
    out.add(j);
  }
  return [...out].sort((a, b) => a - b);
}

/** Colours of the curves by their order (Vega's tableau10, the default for nominal colour). */
const CURVE_COLOURS = [
  "#4c78a8",
  "#f58518",
  "#e45756",
  "#72b7b2",
  "#54a24b",
  "#eeca3b",
  "#b279a2",
  "#ff9da6",
  "#9d755d",
  "#bab0ac",
];

/** A fit's dash: longer than any term's (solid, 6-3, 2-2, 8-2-2-2), so a fit reads as no term. */
const FIT_DASH = [12, 4];

/**
 * Δk against k, log-log, one line per series with a ±1 SE band, and optional fitted lines.
 * Series that name a `term` are dashed by it (colour by label, dash by term); values <= 0 (a
 * landscape term below zero) cannot be drawn on a log axis and are left out. A fit is a dashed
 * line in its curve's colour, with a legend of its own (the curves' legend names the curves).
 */
export function deltaFigure(
  title: string,
  series: CurveSeries[],
  fits: FitLine[] = [],
  { xTitle = "k (samples)", yTitle = "Δk", size }: {
    xTitle?: string;
    yTitle?: string;
    /**
     * The whole figure's width and height, legends and title included (default: the plot's
     * own size plus whatever its legends need), so that panels shown side by side match.
     */
    size?: { width: number; height: number };
  } = {},
): FigureSpec {
  const rows = series.flatMap((s) =>
    thin(s.delta.length, s.k).filter((i) => s.delta[i] > 0).map((i) => {
      const se = s.se ? s.se[i] : 0;
      return {
        series: s.label,
        term: s.term ?? "",
        k: s.k[i],
        delta: s.delta[i],
        lo: Math.max(s.delta[i] - se, s.delta[i] * 0.05),
        hi: s.delta[i] + se,
      };
    })
  );
  const labels = [...new Set(series.map((s) => s.label))];
  const colourOf = (label: string) => {
    const i = labels.indexOf(label);
    if (i < 0) throw new RangeError(`a fit of "${label}", which is not a curve of this figure`);
    return CURVE_COLOURS[i % CURVE_COLOURS.length];
  };
  const fitRows = fits.flatMap((f) =>
    [f.kFrom, f.kTo].map((k) => ({ series: f.label, k, delta: Math.exp(f.c) * k ** -f.p }))
  );
  const x = {
    field: "k",
    type: "quantitative" as const,
    scale: { type: "log" as const, nice: false },
    title: xTitle,
  };
  const y = {
    field: "delta",
    type: "quantitative" as const,
    scale: { type: "log" as const },
    title: yTitle,
    axis: { format: "~e" },
  };
  const legend = { orient: "bottom" as const, direction: "vertical" as const, labelLimit: 600 };
  // With fits, curves and fits get a legend each (a fit is a dashed line, not a band).
  const color = {
    field: "series",
    type: "nominal" as const,
    title: fitRows.length ? "measured (band: ±1 SE)" : null,
    scale: { domain: labels, range: labels.map(colourOf) },
    legend,
  };
  const fitColor = {
    field: "series",
    type: "nominal" as const,
    title: "fitted power laws",
    scale: { domain: fits.map((f) => f.label), range: fits.map((f) => colourOf(f.curve)) },
    legend: { ...legend, symbolType: "stroke", symbolDash: FIT_DASH, symbolStrokeWidth: 2.5 },
  };
  const terms = [...new Set(series.flatMap((s) => s.term === undefined ? [] : [s.term]))];
  const dash = terms.length
    ? {
      strokeDash: {
        field: "term",
        type: "nominal" as const,
        title: null,
        scale: {
          domain: terms,
          range: [[1, 0], [6, 3], [2, 2], [8, 2, 2, 2]].slice(0, terms.length),
        },
        legend: { orient: "bottom" as const, direction: "vertical" as const },
      },
    }
    : {};
  const curves = [
    {
      data: { values: rows },
      mark: { type: "area" as const, opacity: 0.2 },
      encoding: {
        x,
        y: { ...y, field: "lo" },
        y2: { field: "hi" },
        color,
        ...(terms.length ? { detail: { field: "term", type: "nominal" as const } } : {}),
      },
    },
    {
      data: { values: rows },
      mark: { type: "line" as const, strokeWidth: 1.5 },
      encoding: { x, y, color, ...dash },
    },
  ];
  const fitted = {
    data: { values: fitRows },
    mark: { type: "line" as const, strokeDash: FIT_DASH, strokeWidth: 2.5 },
    encoding: { x, y, color: fitColor },
  };
  return {
    kind: "vega-lite",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: { text: wrapTitle(title), anchor: "start" },
      width: size?.width ?? 460,
      height: size?.height ?? 320,
      ...(size ? { autosize: { type: "fit", contains: "padding" } } : {}),
      // Legends stacked under the plot (curves, then terms, then fits), not side by side.
      config: {
        ...CONFIG,
        legend: { titleLimit: 600, layout: { bottom: { anchor: "start", direction: "vertical" } } },
      },
      ...(fitRows.length
        ? { layer: [{ layer: curves }, fitted], resolve: { scale: { color: "independent" } } }
        : { layer: curves }),
    } as unknown as vl.TopLevelSpec,
  };
}

/** A long title as lines of at most `width` characters, broken between words. */
export function wrapTitle(title: string, width = 64): string | string[] {
  const lines: string[] = [];
  for (const word of title.split(" ")) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.length > 1 ? lines : title;
}

/** A function on a square grid. */
export interface GridData {
  /** Coordinates along each axis. */
  axis: ArrayLike<number>;
  /** values[i * n + j] at (a = axis[i], b = axis[j]). */
  values: ArrayLike<number>;
}

/**
 * An n x n image (row-major) with a one-cell ring around it that repeats its edge values, so
 * contours cross the image's edges instead of closing along them.
 */
function padded(image: number[], n: number): number[] {
  const clamp = (i: number) => Math.min(n - 1, Math.max(0, i - 1));
  return Array.from(
    { length: (n + 2) * (n + 2) },
    (_, p) => image[clamp(Math.floor(p / (n + 2))) * n + clamp(p % (n + 2))],
  );
}

/** Heat map of a grid (a across, b up) with contour lines of the same colour transform. */
export function heatmapFigure(
  title: string,
  grid: GridData,
  { label = "loss", log = true, levels = 12, width = 320, domain }: {
    label?: string;
    log?: boolean;
    levels?: number;
    width?: number;
    /**
     * The colour scale's range of (log10 when `log`) values, and the contours' levels evenly
     * inside it (default: this grid's own range), so maps drawn with one domain compare.
     */
    domain?: [number, number];
  } = {},
): FigureSpec {
  const n = grid.axis.length;
  const cell = width / n;
  const lo = grid.axis[0], hi = grid.axis[n - 1];
  const half = n > 1 ? (hi - lo) / (n - 1) / 2 : 0.5;
  const tf = (v: number) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
  const cells: { x: number; y: number; v: number; raw: number; a: number; b: number }[] = [];
  const contour = new Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const raw = grid.values[i * n + j];
      const v = Number.isFinite(raw) ? tf(raw) : NaN;
      cells.push({ x: i * cell, y: (n - 1 - j) * cell, v, raw, a: grid.axis[i], b: grid.axis[j] });
      contour[(n - 1 - j) * n + i] = Number.isFinite(v)
        ? v
        : Math.max(...cells.map((c) => c.v).filter(Number.isFinite));
    }
  }
  return {
    kind: "vega",
    spec: {
      ...vegaHead(title, width, width),
      data: [
        { name: "cells", values: cells },
        {
          name: "grid",
          values: [{ width: n + 2, height: n + 2, values: padded(contour, n) }],
          // Values sit at cell centres; the padding ring lies outside the plot, clipped away
          // with the closing edges of the contour polygons.
          transform: [{
            type: "isocontour",
            ...(domain
              ? {
                thresholds: Array.from(
                  { length: levels },
                  (_, i) => domain[0] + (domain[1] - domain[0]) * (i + 0.5) / levels,
                ),
              }
              : { levels }),
            scale: cell,
            translate: [-cell, -cell],
          }],
        },
      ],
      scales: [
        {
          name: "x",
          type: "linear",
          domain: [lo - half, hi + half],
          range: "width",
          zero: false,
          nice: false,
        },
        {
          name: "y",
          type: "linear",
          domain: [lo - half, hi + half],
          range: "height",
          zero: false,
          nice: false,
        },
        {
          name: "color",
          type: "linear",
          domain: domain ?? { data: "cells", field: "v" },
          range: { scheme: "viridis" },
          ...(domain ? { clamp: true } : {}),
        },
      ],
      axes: [
        { orient: "bottom", scale: "x", title: "a (direction 1)" },
        { orient: "left", scale: "y", title: "b (direction 2)" },
      ],
      legends: [{
        fill: "color",
        title: log ? `log10 ${label}` : label,
        gradientLength: width - 40,
      }],
      marks: [
        {
          type: "rect",
          from: { data: "cells" },
          encode: {
            enter: {
              x: { field: "x" },
              y: { field: "y" },
              width: { value: cell + 0.3 },
              height: { value: cell + 0.3 },
              fill: { scale: "color", field: "v" },
              // Hover values where a viewer shows tooltips (the results page).
              tooltip: { signal: `{a: datum.a, b: datum.b, '${label}': datum.raw}` },
            },
          },
        },
        {
          type: "path",
          clip: true,
          from: { data: "grid" },
          encode: {
            enter: {
              stroke: { value: "white" },
              strokeOpacity: { value: 0.7 },
              strokeWidth: { value: 0.8 },
            },
          },
          transform: [{ type: "geopath", field: "datum.contour" }],
        },
      ],
    } as unknown as FigureSpec["spec"],
  } as FigureSpec;
}

/** A model measured on several seeds: each seed's value with its SE, the mean with its CI. */
export interface ReplicatedDatum {
  label: string;
  seeds: { seed: number; value: number; se?: number }[];
  mean: number;
  /** 95% CI of the mean (null with one seed). */
  interval: [number, number] | null;
}

/**
 * One row per model: every seed as a dot with ±1 SE whiskers (its own noise), offset a little
 * so seeds stay apart, and the mean over seeds as a black bar with its 95% CI.
 */
export function replicateFigure(
  title: string,
  models: ReplicatedDatum[],
  valueTitle: string,
): FigureSpec {
  const maxSeeds = Math.max(1, ...models.map((m) => m.seeds.length));
  const seeds = models.flatMap((m) =>
    m.seeds.map((s, i) => ({
      label: m.label,
      seed: `seed ${s.seed}`,
      offset: i + 1,
      value: s.value,
      lo: s.value - (s.se ?? 0),
      hi: s.value + (s.se ?? 0),
    }))
  );
  const means = models.map((m) => ({
    label: m.label,
    seed: "mean, 95% CI",
    offset: 0,
    value: m.mean,
    lo: m.interval?.[0] ?? m.mean,
    hi: m.interval?.[1] ?? m.mean,
  }));
  const y = {
    field: "label",
    type: "nominal" as const,
    sort: null,
    title: null,
    axis: { labelLimit: 400 },
  };
  const yOffset = {
    field: "offset",
    type: "ordinal" as const,
    scale: { domain: [...Array(maxSeeds + 1).keys()] },
  };
  const x = {
    field: "value",
    type: "quantitative" as const,
    title: valueTitle,
    scale: { zero: false },
  };
  const color = {
    field: "seed",
    type: "nominal" as const,
    title: null,
    legend: { orient: "bottom" as const },
  };
  return {
    kind: "vega-lite",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: {
        text: title,
        subtitle: "dots: each seed, ±1 SE over its rays; black: the mean over seeds, 95% CI",
      },
      width: 360,
      height: 18 * (maxSeeds + 1) * models.length,
      config: CONFIG,
      layer: [
        {
          data: { values: seeds },
          mark: { type: "rule", strokeWidth: 1 },
          encoding: { y, yOffset, x: { ...x, field: "lo" }, x2: { field: "hi" }, color },
        },
        {
          data: { values: seeds },
          mark: { type: "point", filled: true, size: 40 },
          encoding: { y, yOffset, x, color },
        },
        {
          data: { values: means },
          mark: { type: "rule", strokeWidth: 4, color: "black" },
          encoding: { y, yOffset, x: { ...x, field: "lo" }, x2: { field: "hi" } },
        },
        {
          data: { values: means },
          mark: { type: "tick", thickness: 3, color: "black", orient: "vertical" },
          encoding: { y, yOffset, x },
        },
      ],
    },
  };
}

/** A quantity against a parameter (e.g. mean Δk against sigma), log-log, with ±1 SE. */
export function sweepFigure(
  title: string,
  points: { x: number; y: number; se?: number; series?: string }[],
  { xTitle, yTitle, logX = true }: { xTitle: string; yTitle: string; logX?: boolean },
): FigureSpec {
  const values = points.map((p) => ({
    ...p,
    series: p.series ?? "",
    lo: Math.max(p.y - (p.se ?? 0), p.y * 0.05),
    hi: p.y + (p.se ?? 0),
  }));
  const x = {
    field: "x",
    type: "quantitative" as const,
    scale: { type: logX ? "log" as const : "linear" as const },
    title: xTitle,
  };
  return {
    kind: "vega-lite",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title,
      width: 380,
      height: 280,
      config: CONFIG,
      data: { values },
      layer: [
        {
          mark: { type: "line", point: true },
          encoding: {
            x,
            y: { field: "y", type: "quantitative", scale: { type: "log" }, title: yTitle },
            color: { field: "series", type: "nominal", title: null },
          },
        },
        {
          mark: "rule",
          encoding: {
            x,
            y: { field: "lo", type: "quantitative" },
            y2: { field: "hi" },
            color: { field: "series", type: "nominal" },
          },
        },
      ],
    },
  };
}

/**
 * A grid's surface as a rotatable wireframe (Vega): log10 values over (a, b), projected by two
 * angles that dragging changes where the figure is interactive (the results page) and that
 * stay at their start in a rendered SVG or PNG. Axes along a, b and the value, with their end
 * values, turn with it; the colour bar gives the value scale.
 */
export function rotatableSurfaceFigure(
  title: string,
  grid: GridData,
  { label = "loss", log = true, width = 420, height = 340 } = {},
): FigureSpec {
  const n = grid.axis.length;
  const tf = (v: number) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
  const z = Array.from(grid.values, (v) => (Number.isFinite(v) ? tf(v) : NaN));
  const finite = z.filter(Number.isFinite);
  const zMin = Math.min(...finite), zMax = Math.max(...finite), zSpan = zMax - zMin || 1;
  const at = (i: number, j: number) => {
    const v = z[i * n + j];
    return {
      u: n > 1 ? 2 * i / (n - 1) - 1 : 0,
      v: n > 1 ? 2 * j / (n - 1) - 1 : 0,
      w: (Number.isFinite(v) ? v - zMin : zSpan) / zSpan - 0.5,
    };
  };
  const segments = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      for (const [di, dj] of [[1, 0], [0, 1]]) {
        if (i + di >= n || j + dj >= n) continue;
        const p = at(i, j), q = at(i + di, j + dj);
        const zi = z[i * n + j], zj = z[(i + di) * n + j + dj];
        segments.push({
          u0: p.u,
          v0: p.v,
          w0: p.w,
          u1: q.u,
          v1: q.v,
          w1: q.w,
          z: Number.isFinite(zi) && Number.isFinite(zj) ? (zi + zj) / 2 : zMax,
          a: grid.axis[i],
          b: grid.axis[j],
          value: grid.values[i * n + j],
        });
      }
    }
  }
  const lo = grid.axis[0], hi = grid.axis[n - 1];
  const zTitle = log ? `log10 ${label}` : label;
  const num = (x: number) => Number(x.toPrecision(3)).toString();
  // Axes from the corner (a, b) = (lo, lo) at the lowest value: along a, along b, and up.
  const axes = [
    { u0: -1, v0: -1, w0: -0.5, u1: 1, v1: -1, w1: -0.5 },
    { u0: -1, v0: -1, w0: -0.5, u1: -1, v1: 1, w1: -0.5 },
    { u0: -1, v0: -1, w0: -0.5, u1: -1, v1: -1, w1: 0.5 },
  ];
  const labels = [
    { u: -1, v: -1.15, w: -0.5, text: num(lo) },
    { u: 1, v: -1.15, w: -0.5, text: num(hi) },
    { u: 0, v: -1.3, w: -0.5, text: "a (direction 1)", title: true },
    { u: -1.15, v: 1, w: -0.5, text: num(hi) },
    { u: -1.3, v: 0, w: -0.5, text: "b (direction 2)", title: true },
    { u: -1.1, v: -1.1, w: 0.5, text: num(zMax) },
    { u: -1.1, v: -1.1, w: 0.62, text: zTitle, title: true },
  ];
  const x = (u: string, v: string) => `width / 2 + scale * (${u} * cos(yaw) - ${v} * sin(yaw))`;
  const y = (u: string, v: string, w: string) =>
    `height / 2 + scale * ((${u} * sin(yaw) + ${v} * cos(yaw)) * sin(pitch) - ${w} * cos(pitch))`;
  const ends = (fields: [string, string, string]) => ({
    x: { signal: x(`datum.${fields[0]}0`, `datum.${fields[1]}0`) },
    y: { signal: y(`datum.${fields[0]}0`, `datum.${fields[1]}0`, `datum.${fields[2]}0`) },
    x2: { signal: x(`datum.${fields[0]}1`, `datum.${fields[1]}1`) },
    y2: { signal: y(`datum.${fields[0]}1`, `datum.${fields[1]}1`, `datum.${fields[2]}1`) },
  });
  const drag = "[mousedown, window:mouseup] > window:mousemove";
  return {
    kind: "vega",
    spec: {
      ...vegaHead(title, width, height),
      signals: [
        { name: "scale", update: "min(width, height) / 3" },
        // Declared before `anchor`, so a move turns by the distance from the previous one.
        {
          name: "yaw",
          value: -0.7,
          on: [{ events: drag, update: "yaw + (x() - anchor[0]) / 100" }],
        },
        {
          name: "pitch",
          value: 0.6,
          on: [{ events: drag, update: "clamp(pitch + (y() - anchor[1]) / 100, 0.05, 1.5)" }],
        },
        { name: "anchor", value: [0, 0], on: [{ events: `mousedown, ${drag}`, update: "xy()" }] },
      ],
      data: [
        { name: "segments", values: segments },
        { name: "axes", values: axes },
        { name: "labels", values: labels },
      ],
      scales: [{
        name: "color",
        type: "linear",
        domain: [zMin, zMax],
        range: { scheme: "viridis" },
      }],
      legends: [{ fill: "color", title: zTitle, gradientLength: height - 40 }],
      marks: [
        {
          type: "rule",
          from: { data: "axes" },
          encode: { update: { ...ends(["u", "v", "w"]), stroke: { value: "#444" } } },
        },
        {
          type: "rule",
          from: { data: "segments" },
          encode: {
            enter: {
              stroke: { scale: "color", field: "z" },
              strokeWidth: { value: 1 },
              tooltip: { signal: `{a: datum.a, b: datum.b, '${label}': datum.value}` },
            },
            update: ends(["u", "v", "w"]),
          },
        },
        {
          type: "text",
          from: { data: "labels" },
          encode: {
            enter: {
              text: { field: "text" },
              align: { value: "center" },
              baseline: { value: "middle" },
              fontSize: { signal: "datum.title ? 12 : 10" },
              fill: { value: "#222" },
            },
            update: {
              x: { signal: x("datum.u", "datum.v") },
              y: { signal: y("datum.u", "datum.v", "datum.w") },
            },
          },
        },
      ],
    } as unknown as FigureSpec["spec"],
  } as FigureSpec;
}
