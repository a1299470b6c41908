/**
 * The options of a user's own data (--data npy, csv, images): its files, test set,
 * normalisation; each refused when given for data it does not apply to.
 * @module
 */
import { DataError } from "../data/dataset.ts";
import {
  loadOwnData,
  type Normalization,
  OWN_DATA,
  type OwnData,
  type OwnDataName,
  OwnDataOptionError,
} from "../data/own_data.ts";
import { CliError, onlyWhere, opt, type Option, type Parsed } from "./options.ts";

/** A comma-separated list of numbers, or undefined when absent. */
function numbers(help: string): Option<number[] | undefined> {
  return {
    type: "string",
    help,
    parse(raw, name) {
      if (raw === undefined) return undefined;
      return String(raw).split(",").map((p) => {
        const v = Number(p.trim());
        if (p.trim() === "" || !Number.isFinite(v)) {
          throw new CliError(`--${name} takes comma-separated numbers, got "${p}"`);
        }
        return v;
      });
    },
  };
}

/** A fraction in (0, 1), or undefined when absent. */
const fraction: Option<number | undefined> = {
  type: "string",
  help:
    "own data: seeded fraction of the samples set aside as the test set (instead of test files)",
  parse(raw, name) {
    if (raw === undefined) return undefined;
    const v = Number(raw);
    if (String(raw).trim() === "" || !(v > 0 && v < 1)) {
      throw new CliError(`--${name} must be a number in (0, 1), got "${raw}"`);
    }
    return v;
  },
};

const OPTIONS = {
  x: opt.str("npy: samples [N, ...] in C order (float32, int64, or uint8 scaled to [0, 1])"),
  y: opt.str("npy: labels [N], class numbers from 0"),
  "test-x": opt.str("npy: test samples"),
  "test-y": opt.str("npy: test labels"),
  file: opt.str("csv: table with a header row, numeric cells, one sample per row"),
  label: opt.str("csv: name of the label column"),
  "test-file": opt.str("csv: test table"),
  dir: opt.str("images: folder with one sub-folder of PNG/JPEG images per class"),
  "test-dir": opt.str("images: test folder"),
  "test-fraction": fraction,
  normalize: opt.choice(
    "own data: mean-std normalises each channel by the training samples' statistics",
    "none",
    ["none", "mean-std"] as const,
  ),
  mean: numbers("own data: per-channel means to subtract (one value: every channel)"),
  std: numbers("own data: per-channel standard deviations to divide by"),
};

/** Which --data each option applies to (undefined: any own data). */
const APPLIES: Record<keyof typeof OPTIONS, OwnDataName | undefined> = {
  x: "npy",
  y: "npy",
  "test-x": "npy",
  "test-y": "npy",
  file: "csv",
  label: "csv",
  "test-file": "csv",
  dir: "images",
  "test-dir": "images",
  "test-fraction": undefined,
  normalize: undefined,
  mean: undefined,
  std: undefined,
};

/**
 * Why option `name` would go unused with --data `data`, if it would; an undefined --data (an
 * analysis's: the checkpoint's) is checked once the checkpoint names it.
 */
function unusedWith(name: string, data: unknown): string | undefined {
  if (data === undefined) return undefined;
  const kind = APPLIES[name as keyof typeof OPTIONS];
  if (isOwnData(data as string) && (kind === undefined || kind === data)) return undefined;
  return `with --data ${data} (it is for --data ${kind ?? OWN_DATA.join(", ")})`;
}

/** Options of own data, each refused with data it does not apply to. */
export const ownDataOptions: typeof OPTIONS = Object.fromEntries(
  Object.entries(OPTIONS).map(([name, option]) => [
    name,
    onlyWhere(option as Option<unknown>, (o) => unusedWith(name, o.data)),
  ]),
) as typeof OPTIONS;

/** Parsed own-data options. */
export type OwnDataParsed = Parsed<typeof ownDataOptions>;

/** Whether `data` names own data. */
export function isOwnData(data: string | undefined): data is OwnDataName {
  return (OWN_DATA as readonly string[]).includes(data ?? "");
}

/** Refuses own-data options given for data they do not apply to, or that contradict. */
export function checkOwnDataOptions(o: OwnDataParsed, data: string): void {
  for (const name of Object.keys(APPLIES)) {
    const v = o[name as keyof OwnDataParsed];
    if (v === undefined || (name === "normalize" && v === "none")) continue;
    const reason = unusedWith(name, data);
    if (reason) throw new CliError(`--${name} is not used ${reason}; leave it out`);
  }
  if ((o.mean === undefined) !== (o.std === undefined)) {
    throw new CliError(`--mean and --std go together; give both`);
  }
  if (o.mean && o.normalize === "mean-std") {
    throw new CliError(`--normalize mean-std computes the statistics; leave --mean and --std out`);
  }
}

/** How own data is split, beyond the files. */
export interface OwnDataSplit {
  seed: number;
  validation?: number;
  trainLimit?: number;
  /** Recorded statistics, which replace --normalize. */
  normalization?: Normalization;
  /** Refuse data without test samples (train evaluates on them). */
  requireTest?: boolean;
}

/** Loads own data as the options say; option problems are CLI errors. */
export async function ownDataFrom(
  o: OwnDataParsed & { data: string },
  s: OwnDataSplit,
): Promise<OwnData> {
  const data = o.data as OwnDataName;
  checkOwnDataOptions(o, data);
  try {
    const loaded = await loadOwnData({
      data,
      files: {
        x: o.x,
        y: o.y,
        testX: o["test-x"],
        testY: o["test-y"],
        file: o.file,
        label: o.label,
        testFile: o["test-file"],
        dir: o.dir,
        testDir: o["test-dir"],
      },
      seed: s.seed,
      testFraction: o["test-fraction"],
      validation: s.validation,
      trainLimit: s.trainLimit,
      normalize: s.normalization ??
        (o.mean && o.std ? { mean: o.mean, std: o.std } : o.normalize),
    });
    if (s.requireTest && loaded.test.labels.length === 0) {
      const files = { npy: "--test-x and --test-y", csv: "--test-file", images: "--test-dir" };
      throw new CliError(
        `--data ${data} needs test samples: pass ${files[data]}, or --test-fraction 0.2`,
      );
    }
    return loaded;
  } catch (e) {
    if (e instanceof OwnDataOptionError) throw new CliError(e.message);
    if (e instanceof RangeError && !(e instanceof DataError)) throw new CliError(e.message);
    throw e;
  }
}
