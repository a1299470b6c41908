/**
 * TeX-like math in plain text (`Δ_{k+1}`, `a_k²`, `k^-p`) as Unicode sub- and superscripts
 * (Δₖ₊₁, aₖ², k⁻ᵖ), so reports, figures and the page read as math without a TeX renderer.
 * Only what every character of has a Unicode sub/superscript is rewritten; the rest stays.
 * @module
 */

const SUB: Record<string, string> = Object.fromEntries(
  [..."0123456789+-=()aehijklmnoprstuvx"].map((
    c,
    i,
  ) => [c, [..."₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"][i]]),
);
const SUP: Record<string, string> = Object.fromEntries(
  [..."0123456789+-−=()abcdefghijklmnoprstuvwxyz"].map((c, i) => [
    c,
    [..."⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ"][i],
  ]),
);

const mapAll = (text: string, table: Record<string, string>): string | undefined => {
  const out = [...text].map((c) => table[c]);
  return out.every((c) => c !== undefined) ? out.join("") : undefined;
};

/**
 * `text` with `x_{...}`, `x^{...}`, and single-symbol `x_k`, `x^-p`, `x^2` written in Unicode.
 * A script without braces (one letter, or digits) needs a one-letter base (so `delta_se` or `run_id` stay as they are).
 */
export function mathText(text: string): string {
  return text
    .replace(
      /([_^])\{([^{}]+)\}/g,
      (all, op: string, body: string) => mapAll(body, op === "_" ? SUB : SUP) ?? all,
    )
    .replace(
      /(?<![\p{L}\d])(\p{L}[²³]?)_([a-z]|\d+)(?![\p{L}\d])/gu,
      (all, base: string, s: string) => base + (mapAll(s, SUB) ?? all.slice(base.length)),
    )
    .replace(
      /(?<![\p{L}\d])(\p{L}|\))\^([-−]?(?:\d+|[a-z]))(?![\p{L}\d.])/gu,
      (all, base: string, s: string) => {
        const m = mapAll(s, SUP);
        return m === undefined ? all : base + m;
      },
    );
}
