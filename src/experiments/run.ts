/**
 * A run folder and its steps. Every step (training a model, a landscape, a sweep) writes its
 * files through temporary files and renames, then records itself in steps/<name>.json with
 * the parameters it ran with and its results. Re-running the same command skips every step
 * whose record exists with the same parameters, so an interrupted run resumes where it
 * stopped and never leaves a corrupt file behind.
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import { formatDuration } from "../train/progress.ts";
import type { Preset } from "./presets.ts";
import { writeAllAtomic } from "../report/atomic.ts";

/** The record of a finished step. */
export interface StepRecord<T> {
  name: string;
  params: unknown;
  result: T;
  seconds: number;
  finished: string;
}

/** A run: its folder, device, preset and steps. */
export class Run {
  /** Steps finished in this process (name, seconds, skipped). */
  readonly log: { name: string; seconds: number; skipped: boolean }[] = [];
  /** Files waiting to be written with the next step record (see {@link describe}). */
  private pending: [string, string][] = [];

  /** A run writing into `dir`. */
  constructor(
    readonly dir: string,
    readonly gpu: Gpu,
    readonly preset: Preset,
    readonly say: (line: string) => void = (l) => console.error(l),
  ) {}

  /** Absolute-or-relative path of `file` inside the run folder (its folder is created). */
  async path(file: string): Promise<string> {
    const full = `${this.dir}/${file}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    return full;
  }

  /**
   * Writes `text` to `file` together with the next step record or at {@link flush}: a run's
   * description (run.json) then never stands alone in a folder whose first step failed.
   */
  describe(file: string, text: string): void {
    this.pending.push([`${this.dir}/${file}`, text]);
  }

  /** Writes the files {@link describe} holds back. */
  async flush(): Promise<void> {
    await writeAllAtomic(this.pending.splice(0));
  }

  /** Reads a step's record, or null when it has not finished with these parameters. */
  async record<T>(name: string, params: unknown): Promise<StepRecord<T> | null> {
    try {
      const r = JSON.parse(await Deno.readTextFile(`${this.dir}/steps/${name}.json`)) as StepRecord<
        T
      >;
      return JSON.stringify(r.params) === JSON.stringify(params) ? r : null;
    } catch {
      return null;
    }
  }

  /** Runs `fn` unless the step already finished with the same parameters; returns its result. */
  async step<T>(name: string, params: unknown, fn: () => Promise<T>): Promise<T> {
    const done = await this.record<T>(name, params);
    if (done) {
      this.log.push({ name, seconds: 0, skipped: true });
      this.say(`${name}: done earlier, skipped`);
      return done.result;
    }
    const started = performance.now();
    const result = await fn();
    const seconds = (performance.now() - started) / 1000;
    const record: StepRecord<T> = {
      name,
      params,
      result,
      seconds,
      finished: new Date().toISOString(),
    };
    const file = await this.path(`steps/${name}.json`);
    await writeAllAtomic([
      [file, JSON.stringify(record, null, 1) + "\n"],
      ...this.pending.splice(0),
    ]);
    this.log.push({ name, seconds, skipped: false });
    this.say(`${name}: finished in ${formatDuration(seconds)}`);
    return result;
  }
}
