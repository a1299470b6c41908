/** Bad inputs about the Monte-Carlo estimator of the experiments' Δk curves. */
import type { BadInput } from "./case.ts";

const OUT = ["--out", "{dir}/run"];

export const experimentEstimatorCases: BadInput[] = [
  {
    name: "an experiment estimator that does not exist",
    args: ["fig5", "--preset", "tiny", "--estimator", "control-variate", ...OUT],
    error: /--estimator must be one of antithetic, plain, got "control-variate"/,
    code: 2,
  },
  {
    name: "an odd number of points for the experiments' antithetic pairs",
    args: ["rate", "--preset", "tiny", "--points", "15", ...OUT],
    error:
      /--points 15 is odd: antithetic pairs need an even number of points; pass --points 16, or --estimator plain/,
    code: 2,
  },
  {
    name: "an estimator for an experiment that draws no Δk curve",
    args: ["fig6", "--preset", "tiny", "--estimator", "plain", ...OUT],
    error: /--estimator is not used by fig6 \(only rate, fig5 read it\); leave it out/,
    code: 2,
  },
];
