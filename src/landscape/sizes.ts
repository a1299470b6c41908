/**
 * Sizes checked before any work starts. A computation states what it will take (one storage
 * buffer the adapter must bind, host memory, samples of the data) as amounts that grow with
 * named sizes (the options that set them); {@link sizeProblem} finds the first amount above its
 * cap and, for every size that amount grows with, the largest value at which everything fits,
 * so the error names the option and a value that works, before a direction is drawn or a buffer
 * allocated.
 * @module
 */

/** A size a computation grows with, by the name the user sets it with (e.g. "--dim"). */
export interface Size {
  /** How the user names it: "--dim" on the command line, "dim" in the library. */
  name: string;
  /** Its value. */
  value: number;
  /** Its least allowed value (suggestions stay at or above it). */
  min: number;
  /** How to show the value when it is not `value` itself (e.g. a list, "1,1000000000"). */
  text?: string;
  /** Allowed values are multiples of this (default 1), e.g. 2 for antithetic pairs of points. */
  step?: number;
}

/** An upper bound on an amount. */
export interface Cap {
  /** How much there is. */
  amount: number;
  /** What it is, e.g. "this adapter's maxStorageBufferBindingSize". */
  name: string;
  /** Unit of the amount. */
  unit: "bytes" | "samples";
}

/** The sizes' values by name, as a need reads them. */
export type SizeOf = (name: string) => number;

/** One amount a computation needs; non-decreasing in every size it grows with. */
export interface Need {
  /** What takes it, e.g. "the loss matrix (one buffer)". */
  what: string;
  /** Names of the sizes it grows with (the options that can make it fit). */
  grows: string[];
  /** The amount at the given sizes. */
  amount(size: SizeOf): number;
  /** The most it may be. */
  cap: Cap;
}

/** Bytes as a person reads them: "512 B", "1.5 KiB", "128 MiB", "47.7 GiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let v = bytes, u = 0;
  while (v >= 1024 && u < units.length - 1) [v, u] = [v / 1024, u + 1];
  return `${u === 0 || v >= 100 ? Math.round(v) : Number(v.toPrecision(3))} ${units[u]}`;
}

function formatAmount(amount: number, unit: Cap["unit"]): string {
  return unit === "bytes" ? formatBytes(amount) : `${amount} ${unit}`;
}

/**
 * Why `needs` do not fit at `sizes` (the first need above its cap, and the largest value of
 * each size it grows with at which every need fits), or undefined when they all fit.
 */
export function sizeProblem(sizes: Size[], needs: Need[]): string | undefined {
  const byName = new Map(sizes.map((s) => [s.name, s]));
  const value = (name: string) => {
    const s = byName.get(name);
    if (!s) throw new RangeError(`no size named "${name}"`);
    return s.value;
  };
  // The largest value of one size at which every need that grows with it fits (a need that
  // fails whatever this size is gets its own message once this one is fixed).
  const fitsWith = (name: string, v: number) => {
    const size = (n: string) => n === name ? v : value(n);
    return needs.every((n) => !n.grows.includes(name) || n.amount(size) <= n.cap.amount);
  };
  const failing = needs.find((n) => n.amount(value) > n.cap.amount);
  if (!failing) return undefined;
  const given = failing.grows.map((name) => {
    const s = byName.get(name)!;
    return `${name} ${s.text ?? s.value}`;
  });
  const largest = failing.grows.flatMap((name) => {
    const s = byName.get(name)!, step = s.step ?? 1;
    // Binary search over the allowed values (multiples of the step, at least the least) for the
    // largest that fits below the given one; the amounts grow with every size.
    let lo = Math.ceil(s.min / step) - 1, hi = Math.ceil(s.value / step);
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (fitsWith(name, mid * step)) lo = mid;
      else hi = mid;
    }
    return lo * step >= s.min ? [`${name} ${lo * step}`] : [];
  });
  const advice = largest.length === 0
    ? failing.grows.length === 0
      ? "no option here makes it smaller"
      : `no value of ${failing.grows.join(" or ")} fits`
    : `the largest that fits${failing.grows.length > 1 ? ", the others as given," : ""} is ${
      largest.join(" or ")
    }`;
  return `${given.length ? `${given.join(" with ")} needs` : "needs"} ${
    formatAmount(failing.amount(value), failing.cap.unit)
  } for ${failing.what}, above ${failing.cap.name} (${
    formatAmount(failing.cap.amount, failing.cap.unit)
  }); ${advice}`;
}

/** Throws a RangeError with {@link sizeProblem}'s message when `needs` do not fit at `sizes`. */
export function requireSizes(sizes: Size[], needs: Need[]): void {
  const problem = sizeProblem(sizes, needs);
  if (problem) throw new RangeError(problem);
}
