/**
 * The corpus of bad inputs (datasets, checkpoints, options): each case must end in a message
 * that names the problem, a non-zero exit code, and no file written.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, serveCli } from "./cli_run.ts";
import { gpuTest } from "./helpers.ts";
import type { BadInput } from "./bad_inputs/case.ts";
import { estimatorCases } from "./bad_inputs/estimator.ts";
import { experimentEstimatorCases } from "./bad_inputs/experiment_estimator.ts";
import { replicateCases } from "./bad_inputs/replicates.ts";
import { optionCases } from "./bad_inputs/options.ts";
import { serveCases } from "./bad_inputs/serve.ts";
import { splitCases } from "./bad_inputs/split.ts";
import { checkpointCases } from "./bad_inputs/checkpoints.ts";
import { datasetCases } from "./bad_inputs/datasets.ts";
import { outCases } from "./bad_inputs/out.ts";
import { finiteCases } from "./bad_inputs/finite.ts";
import { resumeCases } from "./bad_inputs/resume.ts";
import { unusedOptionCases } from "./bad_inputs/unused_options.ts";
import { sizeCases } from "./bad_inputs/sizes.ts";
import { modelSpecCases } from "./bad_inputs/model_spec.ts";
import { ownDataCases } from "./bad_inputs/own_data.ts";
import { torchStateCases } from "./bad_inputs/torch_state.ts";

const CORPUS: BadInput[] = [
  ...optionCases,
  ...splitCases,
  ...checkpointCases,
  ...datasetCases,
  ...outCases,
  ...finiteCases,
  ...serveCases,
  ...resumeCases,
  ...estimatorCases,
  ...unusedOptionCases,
  ...sizeCases,
  ...modelSpecCases,
  ...ownDataCases,
  ...torchStateCases,
  ...experimentEstimatorCases,
  ...replicateCases,
];

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(`${p}/`, ...(await listFiles(p)));
    else out.push(p);
  }
  return out.sort();
}

for (const c of CORPUS) {
  const fn = async () => {
    const parent = await Deno.makeTempDir({ prefix: "bad input " });
    const dir = join(parent, "case dir");
    await Deno.mkdir(dir);
    try {
      await c.prepare?.(dir);
      const before = await listFiles(parent);
      const run = c.program === "serve" ? serveCli : cli;
      const r = await run(...c.args.map((a) => a.replaceAll("{dir}", dir)));
      if (c.code !== undefined) assert.equal(r.code, c.code, r.out);
      else assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, c.error);
      assert.doesNotMatch(r.out, /^\s+at .*:\d+:\d+\)?$/m, "no stack trace");
      assert.deepEqual(await listFiles(parent), before, "nothing written");
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  };
  const name = `bad input: ${c.name}`;
  if (c.gpu) gpuTest(name, fn);
  else Deno.test(name, fn);
}
