/**
 * A log-log Δk chart in SVG: the curve, its ±1 standard-error band, and an optional fitted
 * line C k^-p. Small and dependency-free, for the page.
 * @module
 */

/** One curve of the chart. */
export interface Series {
  label: string;
  k: readonly number[];
  delta: readonly number[];
  se?: readonly number[];
  color: string;
}

const W = 560, H = 340, M = { left: 64, right: 16, top: 16, bottom: 44 };

/** SVG markup of `series` (k and Δk on log axes); points with Δk <= 0 are left out. */
export function deltaChart(series: readonly Series[], fit?: { p: number; c: number }): string {
  const xs: number[] = [], ys: number[] = [];
  for (const s of series) {
    s.k.forEach((k, i) => {
      if (s.delta[i] > 0) {
        xs.push(Math.log10(k));
        ys.push(Math.log10(s.delta[i]));
      }
    });
  }
  if (xs.length === 0) return "<p>No positive Δk values to plot.</p>";
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.floor(Math.min(...ys)), Math.ceil(Math.max(...ys))];
  const px = (lx: number) => M.left + (lx - x0) / Math.max(1e-9, x1 - x0) * (W - M.left - M.right);
  const py = (ly: number) =>
    H - M.bottom - (ly - y0) / Math.max(1e-9, y1 - y0) * (H - M.top - M.bottom);
  const parts: string[] = [];
  for (let e = y0; e <= y1; e++) {
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${py(e)}" y2="${py(e)}" stroke="#eee"/>`,
      `<text x="${M.left - 6}" y="${py(e) + 4}" text-anchor="end" font-size="11">1e${e}</text>`,
    );
  }
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) {
    parts.push(
      `<text x="${px(e)}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${
        10 ** e
      }</text>`,
    );
  }
  for (const s of series) {
    const ok = s.k.map((_, i) => i).filter((i) => s.delta[i] > 0);
    if (s.se) {
      const upper = ok.map((i) =>
        `${px(Math.log10(s.k[i]))},${py(Math.log10(s.delta[i] + s.se![i]))}`
      );
      const lower = ok.filter((i) => s.delta[i] - s.se![i] > 0).reverse()
        .map((i) => `${px(Math.log10(s.k[i]))},${py(Math.log10(s.delta[i] - s.se![i]))}`);
      parts.push(
        `<polygon points="${[...upper, ...lower].join(" ")}" fill="${s.color}" opacity="0.18"/>`,
      );
    }
    const line = ok.map((i) => `${px(Math.log10(s.k[i]))},${py(Math.log10(s.delta[i]))}`);
    parts.push(
      `<polyline points="${line.join(" ")}" fill="none" stroke="${s.color}" stroke-width="1.2"/>`,
    );
  }
  if (fit) {
    const at = (lx: number) => py((fit.c - fit.p * lx * Math.LN10) / Math.LN10);
    parts.push(
      `<line x1="${px(x0)}" y1="${at(x0)}" x2="${px(x1)}" y2="${
        at(x1)
      }" stroke="#222" stroke-dasharray="5 4"/>`,
    );
  }
  const legend = series.map((s, i) =>
    `<text x="${W - M.right - 8}" y="${
      M.top + 14 + 14 * i
    }" text-anchor="end" font-size="12" fill="${s.color}">${s.label}</text>`
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img">` +
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${
      H - M.top - M.bottom
    }" fill="none" stroke="#999"/>` +
    parts.join("") + legend.join("") +
    `<text x="${(W + M.left) / 2}" y="${H - 6}" text-anchor="middle" font-size="12">k</text>` +
    `<text x="14" y="${H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${
      H / 2
    })">Δk</text></svg>`;
}
