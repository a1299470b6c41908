/** Bad numbers of replicates (seeds per model) for the experiments. */
import type { BadInput } from "./case.ts";

const OUT = ["--preset", "tiny", "--out", "{dir}/run"];

export const replicateCases: BadInput[] = [
  {
    name: "no seeds at all",
    args: ["fig2", "--seeds", "0", ...OUT],
    error: /--seeds must be an integer in \[1, ∞\], got 0/,
    code: 2,
  },
  {
    name: "a fractional number of seeds",
    args: ["all", "--seeds", "2.5", ...OUT],
    error: /--seeds must be an integer in \[1, ∞\], got 2\.5/,
    code: 2,
  },
  {
    name: "seeds that are not a number",
    args: ["fig3", "--seeds", "three", ...OUT],
    error: /--seeds must be a number, got "three"/,
    code: 2,
  },
  {
    name: "seeds for Fig. 6, which maps one model",
    args: ["fig6", "--seeds", "3", ...OUT],
    error:
      /--seeds is not used by fig6 \(only rate, fig2, fig3, fig4, fig5 read it\); leave it out/,
    code: 2,
  },
];
