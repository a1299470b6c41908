/**
 * Partial results of sharded commands and their merge. A shard writes
 * OUT/shards/shard-i-of-n/ (manifest.json and one float32 file per point set), built in a
 * temporary folder and renamed, so a folder with a manifest is always complete. `merge`
 * checks that the shards form exactly one configuration's full set, with intact files, before
 * anything is written.
 * @module
 */
import { parseShard, type Shard, shardFromEnvironment } from "../landscape/shard.ts";
import { CliError, opt } from "./options.ts";
import { sha256 } from "../report/digest.ts";
import { osReason, WriteError } from "../report/atomic.ts";

/** --shard. */
export const shardOptions = {
  shard: opt.str(
    'compute only shard "i/n" of the points (i = 0 .. n-1) into OUT/shards, or "auto": from ' +
      "SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX + LANDSCAPE_SHARD_COUNT; then run merge",
  ),
};

/** The shard --shard names (undefined: the whole run in this process). */
export function resolveShard(value: string | undefined): Shard | undefined {
  if (value === undefined) return undefined;
  try {
    return value === "auto" ? shardFromEnvironment((n) => Deno.env.get(n)) : parseShard(value);
  } catch (e) {
    throw new CliError(`--shard: ${(e as Error).message}`);
  }
}

/** One point set of a shard: points [first, end) of `total`, `perPoint` values each. */
export interface PartRecord {
  total: number;
  first: number;
  end: number;
  perPoint: number;
  file: string;
  sha256: string;
}

/** manifest.json of a shard. */
export interface ShardManifest {
  format: "landscape-shard/1";
  /** The command that wrote it (landscape, delta, sufficiency). */
  command: string;
  /** SHA-256 of `config`: shards merge only with shards of the same hash. */
  configHash: string;
  /** Everything that determines the values: options, checkpoint and data identity, GEMM core. */
  config: Record<string, unknown>;
  /** What finishing the outputs needs besides the values (e.g. the model's name). */
  meta: Record<string, unknown>;
  shard: Shard;
  adapter: string;
  parts: Record<string, PartRecord>;
}

/** A point set's values for the points [first, end) of `total`. */
export interface PartValues {
  total: number;
  first: number;
  end: number;
  perPoint: number;
  values: Float32Array;
}

/** JSON with object keys sorted, so equal configurations hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 of a file's bytes (identifies a checkpoint whatever its path). */
export async function fileHash(path: string): Promise<string> {
  return await sha256(await Deno.readFile(path));
}

function f32Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

function f32Values(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

/** Writes shard `shard` of a run; returns its folder. */
export async function writeShard(
  out: string,
  head: {
    command: string;
    config: Record<string, unknown>;
    meta: Record<string, unknown>;
    shard: Shard;
    adapter: string;
  },
  parts: Record<string, PartValues>,
): Promise<string> {
  const dir = `${out}/shards/shard-${head.shard.index}-of-${head.shard.count}`;
  const tmp = `${dir}.tmp-${Deno.pid}`;
  for (const [name, p] of Object.entries(parts)) {
    if (p.values.length !== (p.end - p.first) * p.perPoint) {
      throw new Error(`part ${name} has ${p.values.length} values for ${p.end - p.first} points`);
    }
  }
  try {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    await Deno.mkdir(tmp, { recursive: true });
    const records: Record<string, PartRecord> = {};
    for (const [name, p] of Object.entries(parts)) {
      const bytes = f32Bytes(p.values);
      const file = `${name}.f32`;
      await Deno.writeFile(`${tmp}/${file}`, bytes);
      const { values: _, ...range } = p;
      records[name] = { ...range, file, sha256: await sha256(bytes) };
    }
    const manifest: ShardManifest = {
      format: "landscape-shard/1",
      command: head.command,
      configHash: await configHash(head.config),
      config: head.config,
      meta: head.meta,
      shard: head.shard,
      adapter: head.adapter,
      parts: records,
    };
    await Deno.writeTextFile(`${tmp}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, dir);
  } catch (e) {
    // A full disk or a vanished folder: leave no half-written shard folder behind.
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw new WriteError(dir, osReason(e));
  }
  return dir;
}

/** A shard found on disk. */
export interface FoundShard {
  path: string;
  manifest: ShardManifest;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function readManifest(dir: string): Promise<ShardManifest> {
  let m: ShardManifest;
  try {
    m = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  } catch (e) {
    throw new CliError(`${dir}/manifest.json cannot be read: ${(e as Error).message}`);
  }
  if (m?.format !== "landscape-shard/1" || typeof m.configHash !== "string" || !m.shard) {
    throw new CliError(`${dir}/manifest.json is not a shard manifest (landscape-shard/1)`);
  }
  return m;
}

/**
 * The shards in `folders`: each is a shard folder (with manifest.json) or holds shard-*
 * folders, directly or under shards/. Unfinished temporary folders are ignored.
 */
export async function findShards(folders: readonly string[]): Promise<FoundShard[]> {
  const found: FoundShard[] = [];
  for (const folder of folders) {
    if (!(await isDir(folder))) throw new CliError(`shard folder "${folder}" does not exist`);
    const candidates: string[] = [];
    try {
      await Deno.stat(`${folder}/manifest.json`);
      candidates.push(folder);
    } catch {
      for (const base of [folder, `${folder}/shards`]) {
        if (!(await isDir(base))) continue;
        for await (const e of Deno.readDir(base)) {
          if (e.isDirectory && /^shard-\d+-of-\d+$/.test(e.name)) {
            candidates.push(`${base}/${e.name}`);
          }
        }
      }
    }
    candidates.sort();
    for (const path of candidates) found.push({ path, manifest: await readManifest(path) });
  }
  return found;
}

/** Names the settings (dotted paths) in which two configurations differ. */
function difference(a: unknown, b: unknown, path = ""): string[] {
  const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (!isObject(a) || !isObject(b)) {
    return canonical(a) === canonical(b) ? [] : [`${path}: ${canonical(a)} vs ${canonical(b)}`];
  }
  const x = a as Record<string, unknown>, y = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  return keys.flatMap((k) => difference(x[k], y[k], path ? `${path}.${k}` : k));
}

/** One shard of any kind, as far as the checks of a complete set go. */
export interface ShardIdentity {
  path: string;
  command: string;
  configHash: string;
  config: Record<string, unknown>;
  shard: Shard;
  adapter: string;
}

/**
 * Checks that `shards` are exactly one configuration's complete set: the same configuration
 * and count, every index once, one adapter (unless mixedAdapters). Throws a CliError naming the
 * offending shards otherwise; returns them by index.
 */
export function checkShardSet(
  shards: readonly ShardIdentity[],
  options: { mixedAdapters?: boolean } = {},
): ShardIdentity[] {
  if (shards.length === 0) {
    throw new CliError("no shards found (a shard writes OUT/shards/ in its run folder)");
  }
  const first = shards[0];
  for (const s of shards) {
    if (s.configHash !== first.configHash) {
      throw new CliError(
        `${s.path} is a shard of a different configuration than ${first.path} (${
          s.command !== first.command
            ? `command ${s.command} vs ${first.command}`
            : difference(s.config, first.config).join("; ")
        }); merge the shards of one configuration at a time`,
      );
    }
    if (s.shard.count !== first.shard.count) {
      throw new CliError(
        `${s.path} is shard ${s.shard.index} of ${s.shard.count}, ${first.path} is of ${first.shard.count}: ` +
          "all shards of a run must use the same n",
      );
    }
    if (s.adapter !== first.adapter && !options.mixedAdapters) {
      throw new CliError(
        `${s.path} ran on "${s.adapter}", ${first.path} on "${first.adapter}": results are ` +
          "only reproducible on one adapter (pass --mixed-adapters to merge anyway)",
      );
    }
  }
  const count = first.shard.count;
  const byIndex: ShardIdentity[] = [];
  for (const s of shards) {
    const other = byIndex[s.shard.index];
    if (other) {
      throw new CliError(
        `shard ${s.shard.index} of ${count} appears twice: ${other.path} and ${s.path}`,
      );
    }
    byIndex[s.shard.index] = s;
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex[i]);
  if (missing.length > 0) {
    throw new CliError(
      `missing shard${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of ${count}: run ${
        missing.map((i) => `--shard ${i}/${count}`).join(", ")
      } (or copy ${missing.length > 1 ? "their folders" : "its folder"} here) before merging`,
    );
  }
  return byIndex;
}

/**
 * Checks that `shards` are the complete set of one configuration with intact files and
 * assembles every point set in point order. Throws a CliError naming the problem otherwise.
 */
export async function assembleShards(
  shards: readonly FoundShard[],
  options: { mixedAdapters?: boolean } = {},
): Promise<{ manifest: ShardManifest; parts: Record<string, Float32Array> }> {
  const ordered = checkShardSet(shards.map((s) => ({ path: s.path, ...s.manifest })), options);
  const byIndex = new Map(shards.map((s) => [s.manifest.shard.index, s]));
  const first = shards[0].manifest, count = ordered.length;
  const parts: Record<string, Float32Array> = {};
  for (const [name, spec] of Object.entries(first.parts)) {
    const whole = new Float32Array(spec.total * spec.perPoint);
    let next = 0;
    for (let i = 0; i < count; i++) {
      const s = byIndex.get(i)!;
      const p = s.manifest.parts[name];
      if (!p || p.first !== next || p.total !== spec.total || p.perPoint !== spec.perPoint) {
        throw new CliError(`${s.path}: part ${name} does not continue at point ${next}`);
      }
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(`${s.path}/${p.file}`);
      } catch (e) {
        throw new CliError(`${s.path}/${p.file} cannot be read: ${(e as Error).message}`);
      }
      if (bytes.length !== (p.end - p.first) * p.perPoint * 4 || await sha256(bytes) !== p.sha256) {
        throw new CliError(
          `${s.path}/${p.file} is damaged (its size or SHA-256 differs from the manifest): rerun --shard ${i}/${count}`,
        );
      }
      whole.set(f32Values(bytes), p.first * p.perPoint);
      next = p.end;
    }
    if (next !== spec.total) {
      throw new CliError(`part ${name} ends at point ${next} of ${spec.total}`);
    }
    parts[name] = whole;
  }
  return { manifest: first, parts };
}

/** SHA-256 of the canonical JSON of a configuration. */
export async function configHash(config: Record<string, unknown>): Promise<string> {
  return await sha256(new TextEncoder().encode(canonical(config)));
}
