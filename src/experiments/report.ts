/**
 * The run report (report.md, report.html, report.json): each claim of the paper beside the
 * number this run measured and a plain verdict, then every figure with its numbers. Built from
 * the experiment results saved in results/<experiment>.json, so it covers whatever has run.
 * @module
 */
import { type Block, toHtml, toMarkdown } from "../report/document.ts";
import type { IntegrandResult, RateResult, SweepResult } from "./convergence.ts";
import type { LandscapeFigure, LandscapeResult } from "./landscapes.ts";
import type { Run } from "./run.ts";
import { writeAtomic } from "../report/atomic.ts";
import { loadResults } from "./results.ts";
import { fmt, z } from "./numbers.ts";
import {
  diagnosticBlocks,
  rateBlocks,
  rateClaims,
  sweepBlocks,
  sweepClaims,
} from "./convergence_claims.ts";

export { fmt };

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
  if (r.rate) out.push(...rateClaims(r.rate));
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
  if (r.fig5) out.push(...sweepClaims(r.fig5));
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
  if (r.rate) blocks.push(...rateBlocks(r.rate, p));
  for (const f of [r.fig2, r.fig3, r.fig4]) if (f) blocks.push(...landscapeBlocks(f));
  if (r.fig5) blocks.push(...sweepBlocks(r.fig5));
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
  const curves = [
    ...(r.rate ? [r.rate.main, r.rate.fixedOrder, r.rate.plain] : []),
    ...(r.fig5 ? [...r.fig5.sigma, ...r.fig5.dim] : []),
  ];
  blocks.push(...diagnosticBlocks(curves, p));
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
