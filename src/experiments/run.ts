/**
 * A run folder and its steps. Every step (training a model, a landscape, a sweep) writes its
 * files through temporary files and renames, then records itself in steps/<name>.json: what it
 * depended on (its options, the run's data and matrix-product core, the SHA-256 of each
 * run-folder file it read, such as its model's checkpoint), the SHA-256 of each file it wrote,
 * its result, and a checksum of the record itself. Re-running a command skips a step only when
 * all of these still hold; otherwise it says which step recomputes and why. So an interrupted
 * run resumes where it stopped, a changed option or retrained model recomputes exactly the
 * steps that depend on it, and a damaged file is rebuilt, never trusted.
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import { formatDuration } from "../train/progress.ts";
import type { Preset } from "./presets.ts";
import { writeAllAtomic } from "../report/atomic.ts";
import { sha256 } from "../report/digest.ts";
import { describeChanges } from "./changes.ts";

/** What a step depends on and writes, besides the run's context. */
export interface StepSpec {
  /** Its options. */
  params: unknown;
  /** Run-folder files it reads (paths inside the folder), e.g. its model's checkpoint. */
  reads?: string[];
  /** Run-folder files it writes; each must exist when the step is skipped, unchanged. */
  writes?: string[];
}

/** The record of a finished step (steps/<name>.json). */
export interface StepRecord<T> {
  name: string;
  params: unknown;
  /** The run's context when it ran (data identity, matrix-product core). */
  context: Record<string, unknown>;
  /** SHA-256 of each file it read. */
  inputs: Record<string, string>;
  /** SHA-256 of each file it wrote. */
  outputs: Record<string, string>;
  result: T;
  seconds: number;
  finished: string;
  /** SHA-256 of the record's JSON without this field: tells a damaged or edited record. */
  checksum: string;
}

/** A step's record when it can stand for the step, else why the step must run (null: never ran). */
export type StepState<T> =
  | { record: StepRecord<T>; stale: null }
  | { record: null; stale: string | null };

/** A run: its folder, device, preset, context and steps. */
export class Run {
  /** Steps finished in this process (name, seconds, skipped). */
  readonly log: { name: string; seconds: number; skipped: boolean }[] = [];
  /** SHA-256 of run-folder files, as read or written by this process. */
  readonly #digests = new Map<string, string | null>();
  /** Files waiting to be written with the next step record (see {@link describe}). */
  private pending: [string, string][] = [];

  /**
   * A run writing into `dir`; `context` is what every step depends on besides its own options
   * (e.g. `{ data, kernels }`), each entry named as the log should name it when it changes.
   */
  constructor(
    readonly dir: string,
    readonly gpu: Gpu,
    readonly preset: Preset,
    readonly context: Record<string, unknown> = {},
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

  /** SHA-256 of the run-folder file `file`, or null when it does not exist. */
  async #digest(file: string, fresh = false): Promise<string | null> {
    if (!fresh && this.#digests.has(file)) return this.#digests.get(file)!;
    let digest: string | null;
    try {
      digest = await sha256(await Deno.readFile(`${this.dir}/${file}`));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      digest = null;
    }
    this.#digests.set(file, digest);
    return digest;
  }

  async #digestsOf(
    files: string[] = [],
  ): Promise<Record<string, string | null>> {
    const out: Record<string, string | null> = {};
    for (const f of files) out[f] = await this.#digest(f);
    return out;
  }

  /** Whether step `name` finished with `spec` in this context, with intact files; else why not. */
  async state<T>(name: string, spec: StepSpec): Promise<StepState<T>> {
    const file = `steps/${name}.json`;
    let text: string;
    try {
      text = await Deno.readTextFile(`${this.dir}/${file}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        return { record: null, stale: null };
      }
      throw e;
    }
    const stale = (why: string): StepState<T> => ({ record: null, stale: why });
    let record: StepRecord<T>;
    try {
      record = JSON.parse(text);
    } catch {
      return stale(`${file} is damaged (not valid JSON)`);
    }
    const { checksum, ...body } = record ?? {};
    if (typeof checksum !== "string") {
      return stale(
        `${file} has no checksum (damaged, or written by an older version)`,
      );
    }
    if (
      await sha256(new TextEncoder().encode(JSON.stringify(body))) !== checksum
    ) {
      return stale(
        `${file} is damaged (its checksum does not match its contents)`,
      );
    }
    const options = describeChanges(record.params, spec.params);
    if (options) return stale(`options changed (${options})`);
    for (
      const key of new Set([
        ...Object.keys(record.context),
        ...Object.keys(this.context),
      ])
    ) {
      const change = describeChanges(record.context[key], this.context[key]);
      if (change) return stale(`${key} changed (${change})`);
    }
    const inputs = await this.#digestsOf(spec.reads);
    const readsChanged = describeChanges(
      Object.keys(record.inputs),
      Object.keys(inputs),
    );
    if (readsChanged) return stale(`its inputs changed (${readsChanged})`);
    for (const [f, digest] of Object.entries(inputs)) {
      const what = f.endsWith(".safetensors") ? "checkpoint" : "input";
      if (digest === null) return stale(`its ${what} ${f} is missing`);
      if (digest !== record.inputs[f]) return stale(`${what} ${f} changed`);
    }
    const writes = spec.writes ?? [];
    const outputsChanged = describeChanges(Object.keys(record.outputs), writes);
    if (outputsChanged) return stale(`its outputs changed (${outputsChanged})`);
    for (const f of writes) {
      const digest = await this.#digest(f);
      if (digest === null) return stale(`its output ${f} is missing`);
      if (digest !== record.outputs[f]) {
        return stale(
          `its output ${f} is damaged or was edited (its SHA-256 differs from ${file})`,
        );
      }
    }
    return { record, stale: null };
  }

  /**
   * Runs `fn` unless the step already finished with the same options, context and inputs and
   * its outputs are intact; returns its result. A step that recomputes says why.
   */
  async step<T>(
    name: string,
    spec: StepSpec,
    fn: () => Promise<T>,
  ): Promise<T> {
    const state = await this.state<T>(name, spec);
    if (state.record) {
      this.log.push({ name, seconds: 0, skipped: true });
      this.say(`${name}: done earlier, skipped`);
      return state.record.result;
    }
    if (state.stale) this.say(`${name}: recomputing, ${state.stale}`);
    const inputs = await this.#digestsOf(spec.reads);
    const started = performance.now();
    const result = await fn();
    const seconds = (performance.now() - started) / 1000;
    const outputs: Record<string, string> = {};
    for (const f of spec.writes ?? []) {
      const digest = await this.#digest(f, true);
      if (digest === null) {
        throw new Error(`step ${name} did not write ${this.dir}/${f}`);
      }
      outputs[f] = digest;
    }
    const body = {
      name,
      params: spec.params,
      context: this.context,
      inputs,
      outputs,
      result,
      seconds,
      finished: new Date().toISOString(),
    };
    // The checksum covers the JSON a reader parses back (NaN already null, undefined dropped).
    const json = JSON.stringify(JSON.parse(JSON.stringify(body)));
    const record = {
      ...body,
      checksum: await sha256(new TextEncoder().encode(json)),
    };
    await writeAllAtomic([
      [
        await this.path(`steps/${name}.json`),
        JSON.stringify(record, null, 1) + "\n",
      ],
      ...this.pending.splice(0),
    ]);
    this.log.push({ name, seconds, skipped: false });
    this.say(`${name}: finished in ${formatDuration(seconds)}`);
    return result;
  }
}
