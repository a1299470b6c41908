import assert from "node:assert/strict";
import { deltaFigure, heatmapFigure, rotatableSurfaceFigure } from "../src/plot/figures.ts";
import { renderSvg } from "../src/plot/render.ts";
import { figureStrokes } from "./scene.ts";
import { sharedLogDomain } from "../src/experiments/convergence.ts";

const k = Array.from({ length: 50 }, (_, i) => i + 2);
const curve = (label: string, scale: number) => ({
  label,
  k,
  delta: k.map((x) => scale / x ** 2),
  se: k.map((x) => scale / x ** 2 / 5),
});
const legendTitles = (svg: string) =>
  [...svg.matchAll(/role-legend-title[^>]*>.*?<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
const size = (svg: string) =>
  /<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg)!.slice(1).map(Number);

Deno.test("a Δk figure with fits has one legend for the curves and another for the fits", async () => {
  const svg = await renderSvg(deltaFigure("Δk", [curve("σ = 0.003", 1), curve("σ = 0.01", 2)], [
    { label: "fit p = 2.05", curve: "σ = 0.003", p: 2.05, c: 0, kFrom: 10, kTo: 51 },
  ]));
  assert.deepEqual(legendTitles(svg), ["measured (band: ±1 SE)", "fitted power laws"]);
});

Deno.test("a fitted line and its legend entry have the colour of the curve it fits, dashed", async () => {
  // The fits in the other order than their curves, so a colour by position would not match.
  const fits = [
    { label: "fit p = 1.98", curve: "σ = 0.01", p: 1.98, c: 0, kFrom: 10, kTo: 51 },
    { label: "fit p = 2.05", curve: "σ = 0.003", p: 2.05, c: 0, kFrom: 10, kTo: 51 },
  ];
  const { lines, symbols } = await figureStrokes(
    deltaFigure("Δk", [curve("σ = 0.003", 1), curve("σ = 0.01", 2), curve("σ = 0.03", 3)], fits),
  );
  assert.equal(new Set(["σ = 0.003", "σ = 0.01", "σ = 0.03"].map((l) => lines.get(l))).size, 3);
  for (const f of fits) {
    assert.ok(lines.get(f.curve), `no line for ${f.curve}`);
    assert.equal(lines.get(f.label), lines.get(f.curve), `${f.label} drawn in another colour`);
    assert.deepEqual(symbols.get(f.label), [lines.get(f.curve), true], `${f.label}'s legend entry`);
    assert.deepEqual(
      symbols.get(f.curve),
      [lines.get(f.curve), false],
      `${f.curve}'s legend entry`,
    );
  }
  assert.throws(
    () => deltaFigure("Δk", [curve("σ = 0.003", 1)], [{ ...fits[0], curve: "σ = 0.1" }]),
    /not a curve of this figure/,
  );
});

Deno.test("panels of a given size are that size whatever their legends hold", async () => {
  const panel = { width: 500, height: 520 };
  const few = await renderSvg(deltaFigure("left", [curve("σ = 0.001", 1)], [], { size: panel }));
  const many = await renderSvg(
    deltaFigure(
      "right, with a much longer title than the left panel has, wrapped onto lines",
      [1, 2, 3, 4].map((d) => curve(`dim = ${d}, a label of some length`, d)),
      [],
      { size: panel },
    ),
  );
  assert.deepEqual(size(few), size(many));
});

Deno.test("maps drawn on one domain share their colour scale and contour levels; hover names a, b and the value", () => {
  const axis = [-1, -0.5, 0, 0.5, 1];
  const big = axis.flatMap((a) => axis.map((b) => Math.exp(-(a * a + b * b))));
  const small = big.map((v) => v / 1000);
  const domain = sharedLogDomain([big, small]);
  assert.deepEqual(domain.map((x) => Number(x.toFixed(6))), [-3.868589, 0]);
  const specs = [big, small].map((values) =>
    heatmapFigure("map", { axis, values }, { label: "integrand", domain }).spec as unknown as {
      scales: { name: string; domain: unknown }[];
      data: { name: string; transform?: { thresholds?: number[] }[] }[];
      marks: { encode: { enter: { tooltip?: { signal: string } } } }[];
    }
  );
  for (const s of specs) {
    assert.deepEqual(s.scales.find((x) => x.name === "color")!.domain, domain);
    assert.deepEqual(
      s.data.find((d) => d.name === "grid")!.transform![0].thresholds,
      specs[0].data.find((d) => d.name === "grid")!.transform![0].thresholds,
    );
  }
  assert.match(
    specs[0].marks[0].encode.enter.tooltip!.signal,
    /a: datum\.a, b: datum\.b, 'integrand'/,
  );
});

Deno.test("contours cross the map's edges instead of closing along them (no V shapes there)", async () => {
  const axis = [-1, -0.5, 0, 0.5, 1];
  const values = axis.flatMap((a) => axis.map((b) => 1 + a * a + 2 * b * b));
  const width = 100;
  const svg = await renderSvg(heatmapFigure("map", { axis, values }, { width, log: false }));
  const group = /<g class="mark-path role-mark"[^>]*>(.*?)<\/g>/.exec(svg)![1];
  const points = [...group.matchAll(/ d="([^"]*)"/g)].flatMap((m) =>
    [...m[1].matchAll(/(-?[\d.]+),(-?[\d.]+)/g)].map((p) => [Number(p[1]), Number(p[2])])
  );
  assert.ok(points.length > 20, `${points.length} contour points`);
  const onEdge = points.filter(([x, y]) =>
    [x, y].some((v) => Math.abs(v) < 1e-6 || Math.abs(v - width) < 1e-6)
  );
  assert.deepEqual(onEdge, [], "contour vertices on the map's border");
  assert.match(svg, /class="mark-path role-mark"[^>]*clip-path="url\(#clip\d+\)"/);
});

Deno.test("a surface has axes along a, b and the value, a colour bar, and turns by dragging", async () => {
  const axis = [-1, 0, 1];
  const figure = rotatableSurfaceFigure("surface", { axis, values: [4, 2, 4, 2, 1, 2, 4, 2, 4] });
  const svg = await renderSvg(figure);
  for (const title of ["a (direction 1)", "b (direction 2)", "log10 loss"]) {
    assert.ok(svg.includes(`>${title}</text>`), `${title} on the figure`);
  }
  assert.deepEqual(legendTitles(svg), ["log10 loss"]);
  const signals = (figure.spec as { signals: { name: string; on?: { events: string }[] }[] })
    .signals;
  for (const angle of ["yaw", "pitch"]) {
    assert.match(signals.find((s) => s.name === angle)!.on![0].events, /mousedown.*mousemove/);
  }
});
