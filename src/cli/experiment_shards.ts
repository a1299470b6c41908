/**
 * The preset experiments across machines: train once (`--train-only`), then shard i of n runs
 * every n-th of the requested experiments on those models (`--shard i/n`), each writing its
 * steps, files and results into the run folder and a manifest into OUT/shards/; `merge` checks
 * the set, gathers shard folders from other machines (`--from`) and writes the report. The
 * experiments themselves are the sweep values: their steps do not depend on which process runs
 * them, so the merged folder holds the files a single run writes.
 * @module
 */
import type { DataSplits } from "../data/dataset.ts";
import { experimentVariants, trainingOf, trainingStep } from "../experiments/models.ts";
import type { Run } from "../experiments/run.ts";
import { writeAtomic } from "../report/atomic.ts";
import type { Shard } from "../landscape/shard.ts";
import { gemmVariant } from "../nn/gemm.ts";
import { CliError } from "./options.ts";
import { checkShardSet, configHash, type ShardIdentity } from "./shards.ts";

/** manifest of an experiment shard: OUT/shards/experiments-i-of-n.json. */
export interface ExperimentShardManifest {
  format: "landscape-experiment-shard/1";
  command: string;
  configHash: string;
  config: Record<string, unknown>;
  shard: Shard;
  adapter: string;
  /** The experiments this shard ran. */
  ran: string[];
}

/** The experiments shard `shard` runs: every n-th of `names`, in their order. */
export function assignedExperiments<T extends string>(names: readonly T[], shard: Shard): T[] {
  return names.filter((_, j) => j % shard.count === shard.index);
}

/** Every model variant `names` train, once each. */
function variantsOf(run: Run, names: readonly string[], data: DataSplits) {
  const seen = new Map<string, ReturnType<typeof experimentVariants>[number]>();
  for (const name of names) {
    for (const v of experimentVariants(name, run.preset, data.train.shape)) seen.set(v.id, v);
  }
  return [...seen.values()];
}

/** Trains (or finds trained) every model, every seed, the experiments `names` use; returns how many. */
export async function trainModels(
  run: Run,
  names: readonly string[],
  data: DataSplits,
): Promise<number> {
  const variants = variantsOf(run, names, data);
  for (const v of variants) (await trainingOf(run, v, data)).model?.dispose();
  return variants.length;
}

/** Throws, naming the command to run, unless every model `names` use is trained in `run`. */
export async function requireTrained(
  run: Run,
  names: readonly string[],
  data: DataSplits,
  trainCommand: string,
): Promise<void> {
  const missing = [];
  for (const v of variantsOf(run, names, data)) {
    const step = await run.state(`train-${v.id}`, trainingStep(run, v, data));
    if (!step.record) missing.push(step.stale ? `${v.id} (${step.stale})` : v.id);
  }
  if (missing.length > 0) {
    throw new CliError(
      `the models ${missing.join(", ")} are not trained in ${run.dir}: train them once before ` +
        `the shards (train once, then fan out): ${trainCommand}`,
    );
  }
}

/** What makes two experiment shards parts of one run: the preset, the data, the GEMM core. */
export function experimentConfig(
  run: Run,
  names: readonly string[],
  data: DataSplits,
): Record<string, unknown> {
  const { dataDir: _, ...preset } = run.preset;
  const size = (d: { labels: ArrayLike<number> }) => d.labels.length;
  return {
    experiments: [...names],
    preset,
    data: {
      name: data.train.name,
      shape: data.train.shape,
      sizes: [size(data.train), size(data.validation), size(data.test)],
    },
    gemm: gemmVariant(run.gpu),
  };
}

/** Writes shard `shard`'s manifest after its experiments finished. */
export async function writeExperimentShard(
  run: Run,
  command: string,
  config: Record<string, unknown>,
  shard: Shard,
  ran: string[],
): Promise<string> {
  const manifest: ExperimentShardManifest = {
    format: "landscape-experiment-shard/1",
    command,
    configHash: await configHash(config),
    config,
    shard,
    adapter: run.gpu.adapter,
    ran,
  };
  const path = await run.path(`shards/experiments-${shard.index}-of-${shard.count}.json`);
  await writeAtomic(path, JSON.stringify(manifest, null, 2) + "\n");
  return path;
}

/** The experiment-shard manifests in `folder`/shards/. */
export async function findExperimentShards(
  folder: string,
): Promise<{ path: string; manifest: ExperimentShardManifest }[]> {
  const out = [];
  try {
    for await (const e of Deno.readDir(`${folder}/shards`)) {
      if (!e.isFile || !/^experiments-\d+-of-\d+\.json$/.test(e.name)) continue;
      const path = `${folder}/shards/${e.name}`;
      let manifest: ExperimentShardManifest;
      try {
        manifest = JSON.parse(await Deno.readTextFile(path));
      } catch (err) {
        throw new CliError(`${path} cannot be read: ${(err as Error).message}`);
      }
      if (manifest?.format !== "landscape-experiment-shard/1") {
        throw new CliError(`${path} is not an experiment shard manifest`);
      }
      out.push({ path, manifest });
    }
  } catch (e) {
    if (e instanceof CliError) throw e;
    return []; // no shards folder
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

async function listFiles(root: string, dir = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir ? `${root}/${dir}` : root)) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await listFiles(root, rel));
    else if (e.isFile && !e.name.endsWith(".tmp")) out.push(rel);
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Step records agree when they ran the same inputs to the same results (times differ). */
function sameStep(a: Uint8Array, b: Uint8Array): boolean {
  const pick = (bytes: Uint8Array) => {
    const r = JSON.parse(new TextDecoder().decode(bytes));
    return JSON.stringify([r.params, r.context, r.inputs, r.outputs, r.result]);
  };
  try {
    return pick(a) === pick(b);
  } catch {
    return false;
  }
}

/**
 * Checks the experiment shards of `out` and of the `from` folders (copies of other machines'
 * run folders), then copies the files `out` lacks from them. A file two folders both hold must
 * agree (step records in parameters and result); nothing is copied when any check fails.
 */
export async function gatherExperimentShards(
  out: string,
  from: readonly string[],
  options: { mixedAdapters?: boolean } = {},
): Promise<ExperimentShardManifest | null> {
  const found: { path: string; manifest: ExperimentShardManifest; folder: string }[] = [];
  for (const folder of [out, ...from]) {
    for (const s of await findExperimentShards(folder)) {
      // The same manifest in two folders is one shard seen twice (e.g. a folder merged before).
      const text = JSON.stringify(s.manifest);
      if (!found.some((f) => JSON.stringify(f.manifest) === text)) found.push({ ...s, folder });
    }
  }
  if (found.length === 0) return null;
  const identities: ShardIdentity[] = found.map((s) => ({ path: s.path, ...s.manifest }));
  checkShardSet(identities, options);
  const copies = new Map<string, { source: string; bytes: Uint8Array }>();
  for (const folder of from) {
    for (const rel of await listFiles(folder)) {
      if (rel === "run.json") continue;
      const target = `${out}/${rel}`;
      const bytes = await Deno.readFile(`${folder}/${rel}`);
      let existing = copies.get(target)?.bytes ?? null;
      if (existing === null) {
        try {
          existing = await Deno.readFile(target);
        } catch {
          existing = null;
        }
      }
      if (existing === null) copies.set(target, { source: `${folder}/${rel}`, bytes });
      else if (
        !sameBytes(existing, bytes) && !(rel.startsWith("steps/") && sameStep(existing, bytes))
      ) {
        throw new CliError(
          `${folder}/${rel} differs from ${target}: these folders are not shards of one run`,
        );
      }
    }
  }
  for (const [target, { bytes }] of copies) {
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await writeAtomic(target, bytes);
  }
  return found[0].manifest;
}
