/**
 * Splitting point sets across processes: shard i of n evaluates a contiguous slice of the
 * points. The counter-based generator keys every point's noise by its index, so a slice's
 * values do not depend on n, and the slices of all shards concatenate to the whole set.
 * @module
 */
import type { PointRange } from "./loss_matrix.ts";

/** Shard `index` (0-based) of `count`. */
export interface Shard {
  /** 0 .. count - 1. */
  index: number;
  /** Number of shards. */
  count: number;
}

/** Parses "i/n" (i = 0 .. n - 1). */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : null;
  if (!shard || shard.count < 1 || shard.index >= shard.count) {
    throw new RangeError(
      `a shard is "i/n" with 0 <= i < n (e.g. 0/4 ... 3/4), got "${text}"`,
    );
  }
  return shard;
}

/**
 * The shard a job scheduler assigned through the environment: a Slurm job array
 * (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT, SLURM_ARRAY_TASK_MIN and _STEP) or a
 * Kubernetes indexed Job (JOB_COMPLETION_INDEX, with the count in LANDSCAPE_SHARD_COUNT, as
 * the Job's completions). Throws naming what is missing when neither is complete.
 */
export function shardFromEnvironment(env: (name: string) => string | undefined): Shard {
  const int = (name: string) => {
    const raw = env(name);
    if (raw === undefined || raw === "") return undefined;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name}="${raw}" is not an index`);
    return v;
  };
  const slurmId = int("SLURM_ARRAY_TASK_ID");
  if (slurmId !== undefined) {
    const count = int("SLURM_ARRAY_TASK_COUNT");
    if (count === undefined) {
      throw new RangeError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
    }
    const min = int("SLURM_ARRAY_TASK_MIN") ?? 0, step = int("SLURM_ARRAY_TASK_STEP") ?? 1;
    const index = (slurmId - min) / Math.max(1, step);
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new RangeError(
        `Slurm array task ${slurmId} (min ${min}, step ${step}) is not one of ${count} tasks`,
      );
    }
    return { index, count };
  }
  const k8sIndex = int("JOB_COMPLETION_INDEX");
  if (k8sIndex !== undefined) {
    const count = int("LANDSCAPE_SHARD_COUNT");
    if (count === undefined || count < 1) {
      throw new RangeError(
        "JOB_COMPLETION_INDEX is set but LANDSCAPE_SHARD_COUNT is not: set it to the Job's completions",
      );
    }
    if (k8sIndex >= count) {
      throw new RangeError(`JOB_COMPLETION_INDEX ${k8sIndex} is not below ${count} shards`);
    }
    return { index: k8sIndex, count };
  }
  throw new RangeError(
    "--shard auto found no scheduler: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set",
  );
}

/** Shard `shard`'s contiguous slice of `total` points; sizes differ by at most one. */
export function shardRange(total: number, shard: Shard): PointRange {
  const at = (i: number) => Math.floor(total * i / shard.count);
  return { first: at(shard.index), end: at(shard.index + 1) };
}
