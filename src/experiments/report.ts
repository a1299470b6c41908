/**
 * The run report (report.md, report.html, report.json): each claim of the paper beside the
 * number this run measured and a plain verdict, then every figure with its numbers. Built from
 * the experiment results saved in results/<experiment>.json, so it covers whatever has run.
 * @module
 */
import { type Block, toHtml, toMarkdown } from "../report/document.ts";
import type { IntegrandResult, RateResult, SweepResult } from "./convergence.ts";
import type { LandscapeFigure, LandscapeResult } from "./landscapes.ts";
import { compareSeeds, type Comparison, jointVerdict } from "./compare.ts";
import type { Run } from "./run.ts";
import { writeAtomic } from "../report/atomic.ts";
import { loadResults } from "./results.ts";
import { fmt } from "./numbers.ts";
import {
  diagnosticBlocks,
  rateBlocks,
  rateClaims,
  sweepBlocks,
  sweepClaims,
} from "./convergence_claims.ts";

/** Everything the report can show (each part present once its experiment has run). */
export interface RunResults {
  fig2?: LandscapeFigure;
  fig3?: LandscapeFigure;
  fig4?: LandscapeFigure;
  fig5?: SweepResult;
  fig6?: IntegrandResult;
  rate?: RateResult;
}

/**
 * How a claim fared. Claims tested on replicated models (Figs. 2-4) are "contradicted" when the
 * 95% CI of the effect lies on the wrong side of zero.
 */
export type Verdict = "holds" | "does not hold" | "contradicted" | "inconclusive";

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

/** A model's width over seeds: mean (95% CI, seeds). */
function widthText(m: LandscapeResult): string {
  const w = m.width, ci = w.interval;
  return `${m.label} ${fmt(w.mean)} (${
    ci ? `95% CI ${fmt(ci[0])} to ${fmt(ci[1])}, ` : ""
  }${w.seeds} seed${w.seeds === 1 ? "" : "s"})`;
}

/** The power line of a comparison. */
function powerText(c: Comparison, seeds: number): string {
  const need = !Number.isFinite(c.seedsNeeded)
    ? "no number of seeds would detect it"
    : c.seedsNeeded <= seeds
    ? `it needs ${c.seedsNeeded} seeds per model (this run has ${seeds})`
    : `it would need ${c.seedsNeeded} seeds per model (this run has ${seeds})`;
  return `smallest difference detectable at 80% power ${fmt(c.detectable)}; ${need}`;
}

/**
 * Claim "each first model is wider than its second" over seeds (Welch's t test on the seeds'
 * widths, each at least as noisy as its rays): holds when every difference's 95% CI lies
 * above 0, contradicted when one lies below.
 */
function widthClaim(
  id: string,
  paper: string,
  pairs: [LandscapeResult, LandscapeResult][],
  figure: LandscapeFigure,
): Claim {
  const seedValues = (m: LandscapeResult) =>
    m.seeds.map((s) => ({ value: s.width.radius, se: s.width.se }));
  const cs = pairs.map(([a, b]) => compareSeeds(seedValues(a), seedValues(b)));
  const seeds = Math.min(...pairs.flat().map((m) => m.width.seeds));
  // In the figure's order (pairs may name the deeper model first).
  const models = figure.variants.filter((m) => pairs.some((pair) => pair.includes(m)));
  const measured = `width ${models.map(widthText).join(", ")}; ` + pairs.map(([a, b], i) => {
    const c = cs[i];
    return `${a.label} minus ${b.label}: ${fmt(c.effect)} (95% CI ${fmt(c.interval[0])} to ${
      fmt(c.interval[1])
    }, ${c.verdict}); ${powerText(c, seeds)}`;
  }).join("; ") + (cs.some((c) => c.note) ? `; ${cs.find((c) => c.note)!.note}` : "");
  const numbers: Record<string, number> = {};
  for (const m of models) numbers[`width_${m.id}`] = m.width.mean;
  pairs.forEach(([a, b], i) => {
    const key = `${a.id}_vs_${b.id}`, c = cs[i];
    numbers[`effect_${key}`] = c.effect;
    numbers[`ci_lo_${key}`] = c.interval[0];
    numbers[`ci_hi_${key}`] = c.interval[1];
    numbers[`detectable_${key}`] = c.detectable;
    numbers[`seeds_needed_${key}`] = c.seedsNeeded;
  });
  return {
    id,
    paper,
    measured,
    verdict: jointVerdict(cs),
    numbers,
    source: `${figure.figure}/widths.csv, ${figure.figure}/width_means.csv`,
  };
}

/** The paper's claims evaluated on a run's results. */
export function claims(r: RunResults): Claim[] {
  return [
    ...(r.rate ? rateClaims(r.rate) : []),
    ...(r.fig2 ? cnnStyleClaims(r.fig2) : []),
    ...(r.fig3 ? mlpStyleClaims(r.fig3) : []),
    ...(r.fig4 ? depthClaims(r.fig4) : []),
    ...(r.fig5 ? sweepClaims(r.fig5) : []),
    ...(r.fig6 ? localityClaims(r.fig6) : []),
  ];
}

/** Fig. 2: batch norm narrows the CNN's landscape, and dropout after it widens it again. */
function cnnStyleClaims(f: LandscapeFigure): Claim[] {
  const [bd, bn, plain] = ["bn-dropout", "bn", "plain"].map((s) => byStyle(f, s));
  if (!bd || !bn || !plain) return [];
  return [
    widthClaim(
      "fig2-bn-narrows",
      "CNN: batch normalization narrows the landscape (Fig. 2)",
      [[plain, bn]],
      f,
    ),
    widthClaim(
      "fig2-dropout-widens",
      "CNN: adding dropout after batch norm widens the landscape again (Fig. 2)",
      [[bd, bn]],
      f,
    ),
  ];
}

/** Fig. 3: the MLP with batch norm and dropout has the widest landscape. */
function mlpStyleClaims(f: LandscapeFigure): Claim[] {
  const [bd, bn, plain] = ["bn-dropout", "bn", "plain"].map((s) => byStyle(f, s));
  if (!bd || !bn || !plain) return [];
  return [widthClaim(
    "fig3-widest",
    "MLP: batch norm + dropout together give the widest landscape (Fig. 3)",
    [[bd, bn], [bd, plain]],
    f,
  )];
}

/** Fig. 4: each deeper CNN is wider than the one before it. */
function depthClaims(f: LandscapeFigure): Claim[] {
  const v = f.variants;
  if (v.length < 2) return [];
  return [widthClaim(
    "fig4-depth",
    "CNN: more conv layers give a significantly wider landscape (Fig. 4)",
    v.slice(1).map((deeper, i) => [deeper, v[i]]),
    f,
  )];
}

/** Fig. 6: the integrand's mass and mean radius fall as k grows. */
function localityClaims(f: IntegrandResult): Claim[] {
  const m = f.maps;
  if (m.length < 2) return [];
  const first = m[0], last = m[m.length - 1];
  return [{
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
  }];
}

/** What the landscape tables' "rays at the edge" column counts, in words. */
export const RAYS_AT_THE_EDGE = "Width: along random directions from w* (each taken both ways, a " +
  "ray), the distance at which the loss first rises by the preset's `rise` above its value at w*, " +
  'averaged over the rays. "Rays at the edge" counts the rays that reached that rise within the ' +
  "largest radius probed; a ray that never did counts as that radius, so with fewer rays at the " +
  "edge the width is a lower bound.";

function landscapeBlocks(f: LandscapeFigure): Block[] {
  const rows = f.variants.flatMap((v) => [
    ...v.seeds.map((s) => [
      v.label,
      String(s.seed),
      `${(100 * s.trained.testAccuracy).toFixed(2)}%`,
      fmt(s.centerLoss),
      `${fmt(s.width.radius)} ± ${fmt(s.width.se)}`,
      `${s.width.rays - s.width.censored}/${s.width.rays}`,
    ]),
    [
      v.label,
      `mean of ${v.width.seeds}`,
      "",
      "",
      v.width.interval
        ? `**${fmt(v.width.mean)}** (95% CI ${fmt(v.width.interval[0])} to ${
          fmt(v.width.interval[1])
        })`
        : `**${fmt(v.width.mean)}**`,
      `SD between seeds beyond the rays' noise ${fmt(v.width.between)}, SE within a seed ${
        fmt(v.width.within)
      }`,
    ],
  ]);
  return [
    { kind: "heading", level: 2, text: f.title },
    {
      kind: "paragraph",
      text: "Each model is trained with every seed; its width is measured on each (± its SE " +
        "over rays) and compared over seeds. The maps show the first seed's model.",
    },
    {
      kind: "table",
      header: ["model", "seed", "test accuracy", "loss at w*", "width", "rays at the edge"],
      rows,
    },
    { kind: "paragraph", text: RAYS_AT_THE_EDGE },
    ...f.variants.flatMap((v): Block[] => [
      {
        kind: "image",
        path: `landscapes/landscape_${v.map.id}.png`,
        alt: `${v.label}: loss landscape`,
      },
      { kind: "image", path: `landscapes/surface_${v.map.id}.png`, alt: `${v.label}: surface` },
    ]),
    { kind: "image", path: `${f.figure}/widths.png`, alt: `${f.title}: widths` },
  ];
}

/** The steps this invocation ran or skipped, with their times, as a table. */
function stepBlocks(log: ReportRun["log"], seconds: number): Block[] {
  return [
    { kind: "heading", level: 2, text: "Steps of this invocation" },
    log.length
      ? {
        kind: "table",
        header: ["step", "time"],
        rows: [
          ...log.map((
            s,
          ) => [s.name, s.skipped ? "skipped (done before)" : `${s.seconds.toFixed(1)} s`]),
          ["total", `${seconds.toFixed(0)} s`],
        ],
      }
      : { kind: "paragraph", text: `No step ran; total ${seconds.toFixed(0)} s.` },
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
  blocks.push(...stepBlocks(run.log, meta.seconds));
  return blocks;
}

/** What the report reads of a run: its folder, preset and the steps this process ran. */
export type ReportRun = Pick<Run, "dir" | "preset" | "context" | "path" | "log">;

const REPORT_TITLE = "Loss-landscape convergence: run report";

/** The report's blocks as JSON (`{ title, blocks }`), which the results page draws. */
export const REPORT_DOCUMENT = "report.blocks.json";

/** Writes report.md, report.html, report.json and the report's blocks (REPORT_DOCUMENT). */
export async function writeReport(
  run: ReportRun,
  meta: { command: string; adapter: string; seconds: number },
): Promise<{ claims: Claim[]; left: string[] }> {
  const { results, left } = await loadResults(run);
  const blocks = reportBlocks(run, results, meta, left);
  const cs = claims(results);
  const files: [string, string][] = [
    ["report.md", toMarkdown(blocks)],
    ["report.html", toHtml(REPORT_TITLE, blocks)],
    ["report.json", JSON.stringify({ preset: run.preset.name, claims: cs }, null, 1) + "\n"],
    // The results page draws the report from its blocks (with live figures).
    [REPORT_DOCUMENT, JSON.stringify({ title: REPORT_TITLE, blocks }) + "\n"],
  ];
  for (const [name, text] of files) {
    const path = await run.path(name);
    await writeAtomic(path, text);
  }
  return { claims: cs, left };
}
