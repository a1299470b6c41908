/**
 * The one-sentence answer of `sufficiency` ("is my data enough for my model?") and its short
 * report.md: where Δk stays below the threshold, and how that compares with the samples the
 * user has.
 * @module
 */
import type { Sufficiency } from "../landscape/sufficiency.ts";

const range = (i: [number, number] | null) =>
  i ? ` (95% CI ${Math.round(i[0])} to ${Math.round(i[1])})` : "";

/**
 * The answer for `s` at `threshold`, given the `available` samples of the part analysed
 * (undefined: not known, e.g. merged from shards of an older version).
 */
export function sufficiencyAnswer(s: Sufficiency, threshold: number, available?: number): string {
  const have = available === undefined ? "" : `; your data has ${available} samples: `;
  if (s.status === "reached") {
    return `Δk stays below ${threshold} from k* = ${s.k}${range(s.interval)}${
      have && `${have}enough`
    }`;
  }
  if (s.status === "extrapolated") {
    const k = Math.round(s.k);
    const verdict = available === undefined
      ? ""
      : `${have}${available >= k ? "enough (by extrapolation)" : "not enough"}`;
    return `Δk does not stay below ${threshold} by k = ${s.measured[1]}; extrapolated k* = ${k}${
      range(s.interval)
    }${verdict}`;
  }
  return `Δk does not stay below ${threshold} by k = ${s.measured[1]} (${s.reason})${
    have && `${have}not known to be enough`
  }`;
}

/** A short report.md: the answer, and what was measured and written. */
export function sufficiencyReport(
  answer: string,
  settings: { split: string; samples: number; sigma: number; points: number },
): string {
  return [
    "# Sample sufficiency",
    "",
    `**${answer}.**`,
    "",
    `Δk (the mean squared change of the loss landscape when one more sample is added) measured ` +
    `for k = 1 to ${settings.samples - 1} over the first ${settings.samples} samples of the ` +
    `${settings.split} part, in a seeded order, at ${settings.points} Monte-Carlo points ` +
    `around the checkpoint's weights (σ = ${settings.sigma}).`,
    "",
    "- `delta.csv`: Δk with its standard error, per k",
    "- `delta.png`, `delta.svg`: the curve and its fitted rate",
    "- `sufficiency.json`: k*, its interval, and how it was found",
    "",
  ].join("\n");
}
