import assert from "node:assert/strict";
import { mathText } from "../src/report/math_text.ts";
import { blockHtml, toHtml } from "../src/report/document.ts";

Deno.test("TeX-like math reads as Unicode; identifiers and unmappable scripts stay", () => {
  assert.equal(mathText("Δ_{k+1} = E[(L_{k+1}(w) − L_k(w))²]"), "Δₖ₊₁ = E[(Lₖ₊₁(w) − Lₖ(w))²]");
  assert.equal(
    mathText("data term a_k², fitted k^-p, O(1/k^2), Δ_21"),
    "data term aₖ², fitted k⁻ᵖ, O(1/k²), Δ₂₁",
  );
  for (const kept of ["delta_se", "fig5-sigma-0.003", "σ^2.112", "run_id", "x^{q.5}"]) {
    assert.equal(mathText(kept), kept);
  }
});

Deno.test("report HTML links the run's file names, colours verdicts and writes math in Unicode", () => {
  const html = toHtml("t", [
    { kind: "paragraph", text: "Sizes are in `run.json`; Δ_{k+1} against k." },
    {
      kind: "table",
      header: ["claim", "verdict", "numbers in"],
      rows: [["x", "**holds**", "fig2/widths.csv"]],
    },
    { kind: "image", path: "fig5/delta_sigma.png", alt: "Δk for several σ" },
  ]);
  assert.match(html, /<code><a href="run\.json">run\.json<\/a><\/code>/);
  assert.match(html, /<a href="fig2\/widths\.csv">fig2\/widths\.csv<\/a>/);
  assert.match(html, /<strong class="verdict holds">holds<\/strong>/);
  for (const [verdict, colour] of [["does not hold", "fails"], ["contradicted", "fails"]]) {
    const cell = toHtml("t", [{ kind: "paragraph", text: `**${verdict}**` }]);
    assert.match(cell, new RegExp(`<strong class="verdict ${colour}">${verdict}</strong>`));
  }
  assert.match(html, /Δₖ₊₁ against k/);
  assert.match(html, /<a href="fig5\/delta_sigma\.svg">SVG<\/a>/);
  // A page serving the run elsewhere links under its base; figures name their spec's path.
  const page = blockHtml({ kind: "image", path: "fig6/integrand_k1.png", alt: "k = 1" }, "/run/");
  assert.match(page, /data-figure="fig6\/integrand_k1"/);
  assert.match(page, /src="\/run\/fig6\/integrand_k1\.png"/);
});
