/**
 * Typed command-line options on top of node:util parseArgs: each option parses and checks its
 * own value, so a bad value fails with a message naming the option and what it accepts.
 * @module
 */
import { parseArgs } from "node:util";

/** A usage error: printed with the command's --help hint, exit code 2. */
export class CliError extends Error {
  /** An error the user can fix by changing the command line. */
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** One option: how it is written, documented and parsed. */
export interface Option<T> {
  type: "string" | "boolean";
  help: string;
  /** Shown in --help. */
  defaultText?: string;
  parse(raw: string | boolean | undefined, name: string): T;
  /**
   * Why the option, when given, would change nothing with these parsed values ("with --model
   * cnn"), or undefined where it applies: an option given in vain is refused, never ignored.
   */
  unused?(values: Record<string, unknown>): string | undefined;
}

function number(raw: string, name: string): number {
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v)) {
    throw new CliError(`--${name} must be a number, got "${raw}"`);
  }
  return v;
}

/** Option constructors. */
export const opt = {
  /** An integer in [min, max]. */
  int(help: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): Option<number> {
    return {
      type: "string",
      help,
      defaultText: String(def),
      parse(raw, name) {
        if (raw === undefined) return def;
        const v = number(String(raw), name);
        if (!Number.isInteger(v) || v < min || v > max) {
          throw new CliError(
            `--${name} must be an integer in [${min}, ${
              max === Number.MAX_SAFE_INTEGER ? "∞" : max
            }], got ${raw}`,
          );
        }
        return v;
      },
    };
  },
  /** A number above `min` (exclusive) or at least it (inclusive). */
  num(
    help: string,
    def: number,
    min = -Infinity,
    exclusive = false,
    max = Infinity,
  ): Option<number> {
    return {
      type: "string",
      help,
      defaultText: String(def),
      parse(raw, name) {
        if (raw === undefined) return def;
        const v = number(String(raw), name);
        if (exclusive ? v <= min : v < min) {
          throw new CliError(`--${name} must be ${exclusive ? ">" : ">="} ${min}, got ${raw}`);
        }
        if (v > max) throw new CliError(`--${name} must be <= ${max}, got ${raw}`);
        return v;
      },
    };
  },
  /** An optional integer (undefined when absent). */
  maybeInt(help: string, min = 1): Option<number | undefined> {
    return {
      type: "string",
      help,
      parse(raw, name) {
        if (raw === undefined) return undefined;
        return opt.int(help, 0, min).parse(raw, name);
      },
    };
  },
  /** A comma-separated list of numbers, each above `min` (exclusive). */
  list(help: string, def: number[], min = 0, integer = false): Option<number[]> {
    return {
      type: "string",
      help,
      defaultText: def.join(","),
      parse(raw, name) {
        if (raw === undefined) return def;
        const parts = String(raw).split(",").map((s) => s.trim());
        return parts.map((p) => {
          const v = number(p, name);
          if (v <= min || (integer && !Number.isInteger(v))) {
            throw new CliError(
              `--${name} takes ${integer ? "integers" : "numbers"} > ${min}, got "${p}"`,
            );
          }
          return v;
        });
      },
    };
  },
  /** One of `values`. */
  choice<T extends string>(help: string, def: T, values: readonly T[]): Option<T> {
    return {
      type: "string",
      help: `${help} (${values.join(", ")})`,
      defaultText: def,
      parse(raw, name) {
        if (raw === undefined) return def;
        if (!values.includes(raw as T)) {
          throw new CliError(`--${name} must be one of ${values.join(", ")}, got "${raw}"`);
        }
        return raw as T;
      },
    };
  },
  /** One of `values`, or undefined when absent (`defaultText` says what that means). */
  maybeChoice<T extends string>(
    help: string,
    values: readonly T[],
    defaultText?: string,
  ): Option<T | undefined> {
    const one = opt.choice(help, values[0], values);
    return {
      ...one,
      defaultText,
      parse: (raw, name) => (raw === undefined ? undefined : one.parse(raw, name)),
    };
  },
  /** A string (undefined when absent). */
  str(help: string, defaultText?: string): Option<string | undefined> {
    return {
      type: "string",
      help,
      defaultText,
      parse: (raw) => (raw === undefined ? undefined : String(raw)),
    };
  },
  /** A boolean flag. */
  flag(help: string): Option<boolean> {
    return { type: "boolean", help, parse: (raw) => raw === true };
  },
};

/** `option`, refused when given where `unused` names a reason (see {@link Option.unused}). */
export function onlyWhere<T>(
  option: Option<T>,
  unused: (values: Record<string, unknown>) => string | undefined,
): Option<T> {
  return { ...option, unused };
}

/** Options of a command, by name (written --name on the command line). */
export type OptionSet = Record<string, Option<unknown>>;
/** Parsed values of an option set. */
export type Parsed<S extends OptionSet> = {
  [K in keyof S]: S[K] extends Option<infer T> ? T : never;
};

/** Parses `args` against `options`; unknown options and stray arguments are errors. */
export function parseOptions<S extends OptionSet>(args: string[], options: S): Parsed<S> {
  const spec: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const [name, o] of Object.entries(options)) spec[name] = { type: o.type };
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: spec,
      strict: true,
      allowPositionals: true,
    }) as {
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
    });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new CliError(msg);
  }
  if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}"`);
  const out: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(options)) out[name] = o.parse(values[name], name);
  for (const [name, o] of Object.entries(options)) {
    const reason = values[name] === undefined ? undefined : o.unused?.(out);
    if (reason) throw new CliError(`--${name} is not used ${reason}; leave it out`);
  }
  return out as Parsed<S>;
}

/** The --help text of a command. */
export function helpText(usage: string, summary: string, options: OptionSet): string {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `--${name}${o.type === "string" ? " VALUE" : ""}`;
    return `  ${flag.padEnd(26)} ${o.help}${
      o.defaultText !== undefined ? ` [default: ${o.defaultText}]` : ""
    }`;
  });
  return `${usage}\n\n${summary}\n\nOptions:\n${rows.join("\n")}\n  ${
    "--help".padEnd(26)
  } show this help\n`;
}

/** Antithetic pairs take the points two at a time: an odd --points is refused naming the fix. */
export function requireEvenPairs(points: number, estimator: string): void {
  if (estimator === "antithetic" && points % 2 !== 0) {
    throw new CliError(
      `--points ${points} is odd: antithetic pairs need an even number of points; pass ` +
        `--points ${points + 1}, or --estimator plain`,
    );
  }
}
