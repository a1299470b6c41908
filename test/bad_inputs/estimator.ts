/** Bad inputs about the Monte-Carlo estimator of `delta` and `sufficiency`. */
import type { BadInput } from "./case.ts";

const OUT = ["--checkpoint", "{dir}/model.safetensors", "--out", "{dir}/out"];

export const estimatorCases: BadInput[] = [
  {
    name: "an estimator that does not exist",
    args: ["delta", "--estimator", "control-variate", ...OUT],
    error: /--estimator must be one of antithetic, plain, got "control-variate"/,
    code: 2,
  },
  {
    name: "an odd number of points for antithetic pairs",
    args: ["sufficiency", "--points", "65", ...OUT],
    error:
      /--points 65 is odd: antithetic pairs need an even number of points; pass --points 66, or --estimator plain/,
    code: 2,
  },
];
