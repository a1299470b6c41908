/**
 * Each experiment's results (results/<experiment>.json), saved with what they were computed
 * from: the preset's options and the run's context (data identity, matrix-product core). The
 * report shows only results of its own options and context, so a folder that ran `fig6` with
 * other options than `rate` never reports the two as one run; the others it leaves out and
 * names, with what differs.
 * @module
 */
import { writeAtomic } from "../report/atomic.ts";
import { describeChanges } from "./changes.ts";
import type { Preset } from "./presets.ts";
import type { RunResults } from "./report.ts";
import type { Run } from "./run.ts";

/** What results depend on: the options (where the data lie aside) and the run's context. */
function origin(run: Pick<Run, "preset" | "context">) {
  const { dataDir: _, ...options } = run.preset as Preset;
  return { options, context: run.context };
}

/** The preset's fields as the command-line options that set them ("--integrand-grid"). */
function asFlags(options: Record<string, unknown>): Record<string, unknown> {
  const flag = (k: string) =>
    k === "name" ? "--preset" : `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [flag(k), v]));
}

/** Saves one experiment's results for the report, with what they were computed from. */
export async function saveResult(run: Run, key: keyof RunResults, value: unknown): Promise<void> {
  const file = await run.path(`results/${key}.json`);
  await writeAtomic(file, JSON.stringify({ origin: origin(run), result: value }, null, 1) + "\n");
}

/** The results of this run's options and context, and a line for each one left out. */
export async function loadResults(
  run: Pick<Run, "dir" | "preset" | "context">,
): Promise<{ results: RunResults; left: string[] }> {
  const results: RunResults = {};
  const left: string[] = [];
  const here = origin(run);
  for (const key of ["fig2", "fig3", "fig4", "fig5", "fig6", "rate"] as const) {
    const file = `results/${key}.json`;
    let text: string;
    try {
      text = await Deno.readTextFile(`${run.dir}/${file}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue; // not run yet
      throw e;
    }
    let saved: { origin?: ReturnType<typeof origin>; result?: unknown };
    try {
      saved = JSON.parse(text);
    } catch {
      left.push(`${key}: ${file} is damaged (not valid JSON); rerun ${key}`);
      continue;
    }
    if (!saved?.origin || saved.result === undefined) {
      left.push(`${key}: ${file} does not say what it was computed from; rerun ${key}`);
      continue;
    }
    const differences = [
      ["options", describeChanges(asFlags(saved.origin.options), asFlags(here.options))],
      // A report written without loading data (`report`, `merge`) checks the options only.
      ...Object.keys(here.context).map((
        k,
      ) => [k, describeChanges(saved.origin!.context?.[k], here.context[k])]),
    ].filter(([, change]) => change);
    if (differences.length > 0) {
      const what = differences.map(([k, change]) => `other ${k} (${change})`).join(", ");
      left.push(`${key}: computed with ${what}; rerun ${key} with this run's options`);
      continue;
    }
    (results as Record<string, unknown>)[key] = saved.result;
  }
  return { results, left };
}
