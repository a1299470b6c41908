/** Fanning out a run folder whose models are not trained, or were trained with other options. */
import type { BadInput } from "./case.ts";
import { cli } from "../cli_run.ts";

export const resumeCases: BadInput[] = [
  {
    name: "experiment shards before their models are trained",
    args: ["all", "--preset", "tiny", "--shard", "0/2", "--out", "{dir}/run"],
    error:
      /the models mlp-bn-dropout-seed0, mlp-bn-dropout-seed1, mlp-plain-seed0, .* are not trained in .*case dir\/run: train them once before the shards .*: deno task experiment all --train-only --preset tiny --out /,
    code: 2,
    gpu: true,
  },
  {
    name: "experiment shards with options the models were not trained with",
    prepare: async (dir) => {
      const r = await cli("fig6", "--preset", "tiny", "--train-only", "--out", `${dir}/run`);
      if (r.code !== 0) throw new Error(r.out);
    },
    args: ["fig6", "--preset", "tiny", "--epochs", "3", "--shard", "0/2", "--out", "{dir}/run"],
    error:
      /the models mlp-bn-dropout-seed0 \(options changed \(epochs 2 → 3\)\) are not trained in .*: .*fig6 --train-only --preset tiny --epochs 3 --out /,
    code: 2,
    gpu: true,
  },
];
