/**
 * How the report writes numbers and compares two of them.
 * @module
 */

/** Formats a number for the report (4 significant digits, exponent when small or large). */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(3) : Number(v.toPrecision(4)).toString();
}

/** z-score of a - b with independent standard errors. */
export function z(a: number, sa: number, b: number, sb: number): number {
  const s = Math.hypot(sa, sb);
  return s > 0 ? (a - b) / s : (a === b ? 0 : Infinity * Math.sign(a - b));
}
