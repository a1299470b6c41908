/**
 * How the landscape term of Δk scales with σ. Expanding the loss to second order around w*,
 * D(w* + σε) = a + σ c·ε + σ²/2 εᵀBε + ..., so E[D²] − a² = σ² (|c|² + a tr B) + O(σ⁴): the
 * landscape term grows as σ² at small σ, and faster or slower once higher orders (or units
 * that a perturbation switches on or off) take over. The exponent is fitted to levels measured
 * at several σ, each with its standard error.
 * @module
 */

/** The level of the landscape term at one σ. */
export interface SigmaLevel {
  /** The σ of the curve. */
  sigma: number;
  /**
   * The landscape term's level there: the mean of k² times the term over the tail, e.g.
   * `termMeans(curve, { kFrom: 10, weight: (k) => k * k }).landscape.value`.
   */
  value: number;
  /** Its standard error. */
  se: number;
}

/** A power law level ≈ C σ^q fitted in log-log space. */
export interface PowerFit {
  /** The exponent q (the second-order expansion predicts 2 at small σ). */
  exponent: number;
  /** Its standard error, from the levels' standard errors. */
  se: number;
  /** 95% interval of q (q ± 1.96 se). */
  interval: [number, number];
  /** log C. */
  c: number;
  /** The σ fitted. */
  sigmas: number[];
}

/** What {@link sigmaScaling} finds. */
export interface SigmaScaling {
  /** The fit over every resolved σ, or null with fewer than two. */
  all: PowerFit | null;
  /** The fit over the two smallest resolved σ: the exponent "at small σ". */
  small: PowerFit | null;
  /** σ left out, each with why (a level not resolved above zero). */
  excluded: { sigma: number; reason: string }[];
}

/** Weighted least squares of log level on log σ, weights (level / se)² (delta method). */
function powerFit(levels: SigmaLevel[]): PowerFit {
  const x = levels.map((l) => Math.log(l.sigma)), y = levels.map((l) => Math.log(l.value));
  const w = levels.map((l) => (l.value / l.se) ** 2);
  const sw = w.reduce((s, v) => s + v, 0);
  const mx = x.reduce((s, v, i) => s + w[i] * v, 0) / sw;
  const my = y.reduce((s, v, i) => s + w[i] * v, 0) / sw;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < x.length; i++) {
    sxx += w[i] * (x[i] - mx) ** 2;
    sxy += w[i] * (x[i] - mx) * (y[i] - my);
  }
  const q = sxy / sxx, se = 1 / Math.sqrt(sxx);
  return {
    exponent: q,
    se,
    interval: [q - 1.96 * se, q + 1.96 * se],
    c: my - q * mx,
    sigmas: levels.map((l) => l.sigma),
  };
}

/**
 * Fits level ∝ σ^q to the landscape term's levels: over every σ whose level lies more than two
 * standard errors above zero (a log needs a positive level, and an unresolved one says nothing
 * about its scaling), and over the two smallest of those. Levels need a positive standard error.
 */
export function sigmaScaling(levels: SigmaLevel[]): SigmaScaling {
  const sorted = [...levels].sort((a, b) => a.sigma - b.sigma);
  const excluded: SigmaScaling["excluded"] = [];
  const used = sorted.filter((l) => {
    if (l.value > 2 * l.se && l.se > 0) return true;
    excluded.push({
      sigma: l.sigma,
      reason: `landscape term ${l.value.toExponential(2)} ± ${l.se.toExponential(2)} is not ` +
        "resolved above zero",
    });
    return false;
  });
  return {
    all: used.length >= 2 ? powerFit(used) : null,
    small: used.length >= 2 ? powerFit(used.slice(0, 2)) : null,
    excluded,
  };
}
