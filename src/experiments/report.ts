/**
 * The run report (report.md, report.html, report.json): each claim of the paper beside the
 * number this run measured and a plain verdict, then every figure with its numbers. Built from
 * the experiment results saved in results/<experiment>.json, so it covers whatever has run.
 * @module
 */
import type { Sufficiency } from "../landscape/sufficiency.ts";
import { type Block, toHtml, toMarkdown } from "../report/document.ts";
import type { IntegrandResult, RateResult, SweepResult } from "./convergence.ts";
import type { LandscapeFigure, LandscapeResult } from "./landscapes.ts";
import type { Run } from "./run.ts";
import { writeAtomic } from "../report/atomic.ts";
import { loadResults } from "./results.ts";

/** Everything the report can show (each part present once its experiment has run). */
export interface RunResults {
  fig2?: LandscapeFigure;
  fig3?: LandscapeFigure;
  fig4?: LandscapeFigure;
  fig5?: SweepResult;
  fig6?: IntegrandResult;
  rate?: RateResult;
}

/** How a claim fared. */
export type Verdict = "holds" | "does not hold" | "inconclusive";

/** One claim of the paper beside this run's measurement. */
export interface Claim {
  id: string;
  paper: string;
  measured: string;
  verdict: Verdict;
  /** The numbers behind the verdict (also in the CSV files named). */
  numbers: Record<string, number>;
  source: string;
}

/** Formats a number for the report (4 significant digits, exponent when small or large). */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(3) : Number(v.toPrecision(4)).toString();
}

/** z-score of a - b with independent standard errors. */
function z(a: number, sa: number, b: number, sb: number): number {
  const s = Math.hypot(sa, sb);
  return s > 0 ? (a - b) / s : (a === b ? 0 : Infinity * Math.sign(a - b));
}

function byStyle(f: LandscapeFigure, suffix: string): LandscapeResult | undefined {
  return f.variants.find((v) => v.id.endsWith(`-${suffix}`));
}

/** Verdict of "a is larger than b" at two standard errors. */
function larger(zv: number): Verdict {
  return zv > 2 ? "holds" : zv < -2 ? "does not hold" : "inconclusive";
}

/** The paper's claims evaluated on a run's results. */
export function claims(r: RunResults): Claim[] {
  const out: Claim[] = [];
  if (r.rate) {
    const m = r.rate.main;
    const ok = Number.isFinite(m.p) &&
      (Math.abs(m.p - 2) <= 0.3 ||
        (m.interval !== null && m.interval[0] <= 2 && 2 <= m.interval[1]));
    out.push({
      id: "rate",
      paper: "Δk = O(1/k²): the fitted slope p of Δk ~ C k^-p is about 2 (Theorem 1)",
      measured:
        `p = ${fmt(m.p)}${
          m.interval ? ` (95% CI ${fmt(m.interval[0])} to ${fmt(m.interval[1])})` : ""
        } for k in [${m.kRange[0]}, ${m.kRange[1]}] (${m.label}); ` +
        `p = ${fmt(r.rate.plain.p)} (${r.rate.plain.label}); with one fixed data order ` +
        `p = ${
          fmt(r.rate.fixedOrder.p)
        }, lower because single samples' losses fluctuate far more than their average`,
      verdict: Number.isFinite(m.p) ? (ok ? "holds" : "does not hold") : "inconclusive",
      numbers: {
        p: m.p,
        p_lo: m.interval?.[0] ?? NaN,
        p_hi: m.interval?.[1] ?? NaN,
        p_plain: r.rate.plain.p,
        p_fixed_order: r.rate.fixedOrder.p,
      },
      source: "rate/rate.csv",
    });
    const agreeing = r.rate.theory.filter((t) => t.agree).length;
    out.push({
      id: "theory",
      paper: "At small σ the second-order (Hessian) closed form matches the Monte-Carlo Δ_{k+1}",
      measured: r.rate.theory.map((t) =>
        `k = ${t.k}: closed form ${fmt(t.closedForm)} ± ${fmt(t.closedFormSe)} vs Monte Carlo ${
          fmt(t.monteCarlo)
        } ± ${fmt(t.monteCarloSe)} (z = ${fmt(t.z)})`
      ).join("; "),
      verdict: agreeing === r.rate.theory.length
        ? "holds"
        : agreeing === 0
        ? "does not hold"
        : "inconclusive",
      numbers: Object.fromEntries(
        r.rate.theory.flatMap((
          t,
        ) => [[`closed_k${t.k}`, t.closedForm], [`mc_k${t.k}`, t.monteCarlo], [`z_k${t.k}`, t.z]]),
      ),
      source: "rate/theory.csv",
    });
  }
  if (r.fig2) {
    const [bd, bn, plain] = ["bn-dropout", "bn", "plain"].map((s) => byStyle(r.fig2!, s));
    if (bd && bn && plain) {
      const zn = z(plain.width.radius, plain.width.se, bn.width.radius, bn.width.se);
      out.push({
        id: "fig2-bn-narrows",
        paper: "CNN: batch normalization narrows the landscape (Fig. 2)",
        measured: `width ${fmt(bn.width.radius)} ± ${fmt(bn.width.se)} with batch norm vs ${
          fmt(plain.width.radius)
        } ± ${fmt(plain.width.se)} without either (z = ${fmt(zn)})`,
        verdict: larger(zn),
        numbers: { width_bn: bn.width.radius, width_plain: plain.width.radius, z: zn },
        source: "fig2/widths.csv",
      });
      const zd = z(bd.width.radius, bd.width.se, bn.width.radius, bn.width.se);
      out.push({
        id: "fig2-dropout-widens",
        paper: "CNN: adding dropout after batch norm widens the landscape again (Fig. 2)",
        measured: `width ${fmt(bd.width.radius)} ± ${
          fmt(bd.width.se)
        } with batch norm + dropout vs ${fmt(bn.width.radius)} ± ${
          fmt(bn.width.se)
        } with batch norm only (z = ${fmt(zd)})`,
        verdict: larger(zd),
        numbers: { width_bn_dropout: bd.width.radius, width_bn: bn.width.radius, z: zd },
        source: "fig2/widths.csv",
      });
    }
  }
  if (r.fig3) {
    const [bd, bn, plain] = ["bn-dropout", "bn", "plain"].map((s) => byStyle(r.fig3!, s));
    if (bd && bn && plain) {
      const z1 = z(bd.width.radius, bd.width.se, bn.width.radius, bn.width.se);
      const z2 = z(bd.width.radius, bd.width.se, plain.width.radius, plain.width.se);
      out.push({
        id: "fig3-widest",
        paper: "MLP: batch norm + dropout together give the widest landscape (Fig. 3)",
        measured: `width ${fmt(bd.width.radius)} ± ${fmt(bd.width.se)} (batch norm + dropout) vs ${
          fmt(bn.width.radius)
        } (batch norm) and ${fmt(plain.width.radius)} (neither); z = ${fmt(z1)}, ${fmt(z2)}`,
        verdict: z1 > 2 && z2 > 2 ? "holds" : z1 < -2 || z2 < -2 ? "does not hold" : "inconclusive",
        numbers: {
          width_bn_dropout: bd.width.radius,
          width_bn: bn.width.radius,
          width_plain: plain.width.radius,
          z_bn: z1,
          z_plain: z2,
        },
        source: "fig3/widths.csv",
      });
    }
  }
  if (r.fig4 && r.fig4.variants.length >= 2) {
    const v = r.fig4.variants;
    const zs = v.slice(1).map((b, i) =>
      z(b.width.radius, b.width.se, v[i].width.radius, v[i].width.se)
    );
    out.push({
      id: "fig4-depth",
      paper: "CNN: more conv layers give a significantly wider landscape (Fig. 4)",
      measured: v.map((x) => `${x.label}: ${fmt(x.width.radius)} ± ${fmt(x.width.se)}`).join("; ") +
        `; successive z = ${zs.map(fmt).join(", ")}`,
      verdict: zs.every((x) => x > 2)
        ? "holds"
        : zs.some((x) => x < -2)
        ? "does not hold"
        : "inconclusive",
      numbers: Object.fromEntries(v.map((x) => [`width_${x.id}`, x.width.radius])),
      source: "fig4/widths.csv",
    });
  }
  if (r.fig5) {
    const s = r.fig5.sigma, lo = s[0], hi = s[s.length - 1];
    if (lo && hi && lo !== hi) {
      const ratio = hi.level.value / lo.level.value;
      const zs = z(hi.level.value, hi.level.se, lo.level.value, lo.level.se);
      out.push({
        id: "fig5-sigma",
        paper: "Δk depends strongly on σ (Fig. 5, left)",
        measured:
          `level k²Δk (mean over k >= 10) is ${fmt(lo.level.value)} ± ${
            fmt(lo.level.se)
          } at ${lo.label} ` +
          `and ${fmt(hi.level.value)} ± ${fmt(hi.level.se)} at ${hi.label}: ${fmt(ratio)}x (z = ${
            fmt(zs)
          })`,
        verdict: ratio > 2 && zs > 3
          ? "holds"
          : Math.abs(zs) <= 2
          ? "does not hold"
          : "inconclusive",
        numbers: { level_low: lo.level.value, level_high: hi.level.value, ratio, z: zs },
        source: "fig5/summary.csv",
      });
    }
    const d = r.fig5.dim, a = d[0], b = d[d.length - 1];
    if (a && b && a !== b) {
      const zd = z(b.level.value, b.level.se, a.level.value, a.level.se);
      out.push({
        id: "fig5-dim",
        paper: "The number of random directions (dim) changes Δk only within noise (Fig. 5, right)",
        measured: `level k²Δk is ${fmt(a.level.value)} ± ${fmt(a.level.se)} at ${a.label} and ` +
          `${fmt(b.level.value)} ± ${fmt(b.level.se)} at ${b.label} (z = ${
            fmt(zd)
          }). Every direction is used ` +
          "here, so at a fixed σ per coefficient the perturbation grows with dim; the authors' code applied only the first direction",
        verdict: Math.abs(zd) <= 2 ? "holds" : "does not hold",
        numbers: { level_dim_low: a.level.value, level_dim_high: b.level.value, z: zd },
        source: "fig5/summary.csv",
      });
    }
  }
  if (r.fig6 && r.fig6.maps.length >= 2) {
    const m = r.fig6.maps, first = m[0], last = m[m.length - 1];
    out.push({
      id: "fig6-local",
      paper:
        "As k grows, the integrand (L_{k+1} - L_k)² p(w) becomes dominated by local behaviour (Fig. 6)",
      measured: m.map((x) => `k = ${x.k}: mass ${fmt(x.mass)}, mean radius ${fmt(x.meanRadius)}`)
        .join("; "),
      verdict: last.meanRadius < first.meanRadius && last.mass < first.mass
        ? "holds"
        : last.mass < first.mass
        ? "inconclusive"
        : "does not hold",
      numbers: Object.fromEntries(
        m.flatMap((x) => [[`mass_k${x.k}`, x.mass], [`radius_k${x.k}`, x.meanRadius]]),
      ),
      source: "fig6/summary.csv",
    });
  }
  return out;
}

function sufficiencyText(s: Sufficiency | null, threshold: number): string {
  if (!s) return "not computed";
  if (s.status === "reached") {
    const ci = s.interval
      ? ` (95% CI ${s.interval[0]} to ${
        Number.isFinite(s.interval[1]) ? s.interval[1] : "beyond the measured range"
      })`
      : "";
    return `Δk stays below ${fmt(threshold)} from k = ${s.k} on${ci}`;
  }
  if (s.status === "extrapolated") {
    const ci = s.interval ? ` (95% CI ${fmt(s.interval[0])} to ${fmt(s.interval[1])})` : "";
    return `not reached up to k = ${s.measured[1]}; the fitted power law reaches ${
      fmt(threshold)
    } at k* ≈ ${fmt(s.k)}${ci}`;
  }
  return `not reached up to k = ${s.measured[1]}, and no extrapolation: ${s.reason}`;
}

function landscapeBlocks(f: LandscapeFigure): Block[] {
  return [
    { kind: "heading", level: 2, text: f.title },
    {
      kind: "table",
      header: ["model", "test accuracy", "loss at w*", "width", "rays at the edge"],
      rows: f.variants.map((v) => [
        v.label,
        `${(100 * v.trained.testAccuracy).toFixed(2)}%`,
        fmt(v.centerLoss),
        `${fmt(v.width.radius)} ± ${fmt(v.width.se)}`,
        `${v.width.rays - v.width.censored}/${v.width.rays}`,
      ]),
    },
    ...f.variants.flatMap((v): Block[] => [
      {
        kind: "image",
        path: `landscapes/landscape_${v.id}.png`,
        alt: `${v.label}: loss landscape`,
      },
      { kind: "image", path: `landscapes/surface_${v.id}.png`, alt: `${v.label}: surface` },
    ]),
    { kind: "image", path: `${f.figure}/widths.png`, alt: `${f.title}: widths` },
  ];
}

/** The report's blocks. */
export function reportBlocks(
  run: ReportRun,
  r: RunResults,
  meta: { command: string; adapter: string; seconds: number },
  left: string[] = [],
): Block[] {
  const p = run.preset;
  const cs = claims(r);
  const blocks: Block[] = [
    { kind: "heading", level: 1, text: "Loss-landscape convergence: run report" },
    {
      kind: "paragraph",
      text: `Preset \`${p.name}\`, data \`${p.data}\`, seed ${p.seed}, adapter ${meta.adapter}. ` +
        `Reproduce with \`${meta.command}\` (finished steps are skipped on a re-run). Sizes and versions are in \`run.json\`.`,
    },
    { kind: "heading", level: 2, text: "The paper's claims against this run" },
    cs.length
      ? {
        kind: "table",
        header: ["claim (paper)", "measured here", "verdict", "numbers in"],
        rows: cs.map((c) => [c.paper, c.measured, `**${c.verdict}**`, c.source]),
      }
      : { kind: "paragraph", text: "No experiment has finished yet." },
  ];
  if (left.length > 0) {
    blocks.push({
      kind: "paragraph",
      text: `Left out of this report, as results of other inputs or unreadable: ${
        left.join("; ")
      }.`,
    });
  }
  if (r.rate) {
    blocks.push(
      { kind: "heading", level: 2, text: "Rate of convergence (Theorem 1) and sample sufficiency" },
      {
        kind: "paragraph",
        text:
          `Δk at σ = ${p.sigma} over ${p.points} Monte-Carlo points and ${p.samples} samples. Sufficiency: ${
            sufficiencyText(r.rate.main.sufficiency, p.threshold)
          }.`,
      },
      { kind: "image", path: "rate/delta.png", alt: "Δk against k with fitted power laws" },
      {
        kind: "table",
        header: ["k", "σ", "closed form (Hessian)", "Monte Carlo", "z", "agree"],
        rows: r.rate.theory.map((
          t,
        ) => [
          String(t.k),
          fmt(t.sigma),
          `${fmt(t.closedForm)} ± ${fmt(t.closedFormSe)}`,
          `${fmt(t.monteCarlo)} ± ${fmt(t.monteCarloSe)}`,
          fmt(t.z),
          t.agree ? "yes" : "no",
        ]),
      },
      ...r.rate.theory.map((t): Block => ({ kind: "paragraph", text: `k = ${t.k}: ${t.text}` })),
    );
  }
  for (const f of [r.fig2, r.fig3, r.fig4]) if (f) blocks.push(...landscapeBlocks(f));
  if (r.fig5) {
    blocks.push(
      {
        kind: "heading",
        level: 2,
        text: "Fig. 5: Δk against σ and against the subspace dimension",
      },
      { kind: "image", path: "fig5/delta_sigma.png", alt: "Δk for several σ" },
      { kind: "image", path: "fig5/delta_dim.png", alt: "Δk for several subspace dimensions" },
      {
        kind: "table",
        header: ["series", "Δ at k = 10", "Δ at k = 100", "level k²Δk (k >= 10)", "fitted p"],
        rows: [...r.fig5.sigma, ...r.fig5.dim].map((s) => [
          s.label,
          fmt(s.at[0].delta),
          `${fmt(s.at[1].delta)} ± ${fmt(s.at[1].se)}`,
          `${fmt(s.level.value)} ± ${fmt(s.level.se)}`,
          fmt(s.p),
        ]),
      },
    );
  }
  if (r.fig6) {
    blocks.push(
      { kind: "heading", level: 2, text: "Fig. 6: integrand maps" },
      ...r.fig6.maps.map((m): Block => ({
        kind: "image",
        path: `fig6/integrand_k${m.k}.png`,
        alt: `k = ${m.k}`,
      })),
      {
        kind: "table",
        header: ["k", "mass", "mean radius", "peak"],
        rows: r.fig6.maps.map((m) => [String(m.k), fmt(m.mass), fmt(m.meanRadius), fmt(m.peak)]),
      },
    );
  }
  blocks.push({
    kind: "paragraph",
    text: `Steps of this invocation: ${
      run.log.map((s) => `${s.name} ${s.skipped ? "(skipped)" : `${s.seconds.toFixed(1)} s`}`).join(
        ", ",
      ) || "none"
    }; ` +
      `total ${meta.seconds.toFixed(0)} s.`,
  });
  return blocks;
}

/** What the report reads of a run: its folder, preset and the steps this process ran. */
export type ReportRun = Pick<Run, "dir" | "preset" | "context" | "path" | "log">;

/** Writes report.md, report.html and report.json. */
export async function writeReport(
  run: ReportRun,
  meta: { command: string; adapter: string; seconds: number },
): Promise<{ claims: Claim[]; left: string[] }> {
  const { results, left } = await loadResults(run);
  const blocks = reportBlocks(run, results, meta, left);
  const cs = claims(results);
  const files: [string, string][] = [
    ["report.md", toMarkdown(blocks)],
    ["report.html", toHtml("Loss-landscape convergence: run report", blocks)],
    ["report.json", JSON.stringify({ preset: run.preset.name, claims: cs }, null, 1) + "\n"],
  ];
  for (const [name, text] of files) {
    const path = await run.path(name);
    await writeAtomic(path, text);
  }
  return { claims: cs, left };
}
