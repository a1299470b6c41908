/**
 * A small document model rendered to Markdown and to a self-contained HTML page, so the two
 * report formats always say the same thing.
 * @module
 */

import { mathText } from "./math_text.ts";

/** One block of a report. */
export type Block =
  | { kind: "heading"; level: 1 | 2 | 3; text: string }
  | { kind: "paragraph"; text: string }
  | { kind: "table"; header: string[]; rows: string[][] }
  | { kind: "image"; path: string; alt: string }
  | { kind: "code"; text: string };

/** Text made safe to put into HTML (the report's and the results page's one escaping). */
export const escapeHtml = (s: string): string =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll(
    '"',
    "&quot;",
  );
const escapeCell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");

/** Markdown text of a document. */
export function toMarkdown(blocks: Block[]): string {
  return blocks.map((b) => {
    switch (b.kind) {
      case "heading":
        return `${"#".repeat(b.level)} ${b.text}`;
      case "paragraph":
        return b.text;
      case "table":
        return [b.header, b.header.map(() => "---"), ...b.rows].map((r) =>
          `| ${r.map(escapeCell).join(" | ")} |`
        ).join("\n");
      case "image":
        return `![${b.alt}](${b.path})`;
      case "code":
        return "```\n" + b.text + "\n```";
    }
  }).join("\n\n") + "\n";
}

/** A run folder's file named in text: a relative path with a known extension. */
const FILE_NAME =
  /(?<![\w/.-])((?:[\w.-]+\/)*[\w.-]+\.(?:csv|png|svg|json|md|html|safetensors))(?![\w/])/g;

/** Verdicts of the paper's claims, coloured by class in HTML. */
const VERDICTS: Record<string, string> = {
  "holds": "holds",
  "does not hold": "fails",
  "contradicted": "fails",
  "inconclusive": "inconclusive",
};

/**
 * Paragraph text as HTML: TeX-like math in Unicode, `code`, **bold** (a verdict in bold gets
 * its class, `verdict holds|fails|inconclusive`), and the run's file names as links under
 * `base`.
 */
function inline(text: string, base: string): string {
  return escapeHtml(mathText(text))
    .replace(FILE_NAME, `<a href="${base}$1">$1</a>`)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(
      /\*\*([^*]+)\*\*/g,
      (_, t: string) =>
        VERDICTS[t]
          ? `<strong class="verdict ${VERDICTS[t]}">${t}</strong>`
          : `<strong>${t}</strong>`,
    );
}

/**
 * HTML of one block; file names and images are relative to `base` (e.g. "/run/" for a page that
 * serves the run folder there). Figures carry `data-figure` (their path without extension), so
 * a page can replace the picture with a live view of the same spec.
 */
export function blockHtml(b: Block, base = ""): string {
  const text = (t: string) => inline(t, base);
  switch (b.kind) {
    case "heading":
      return `<h${b.level}>${text(b.text)}</h${b.level}>`;
    case "paragraph":
      return `<p>${text(b.text)}</p>`;
    case "table":
      return `<table><thead><tr>${
        b.header.map((h) => `<th>${text(h)}</th>`).join("")
      }</tr></thead><tbody>` +
        b.rows.map((r) => `<tr>${r.map((c) => `<td>${text(c)}</td>`).join("")}</tr>`).join("") +
        "</tbody></table>";
    case "image": {
      const src = escapeHtml(base + b.path);
      const svg = src.replace(/\.png$/, ".svg");
      return `<figure data-figure="${escapeHtml(b.path.replace(/\.png$/, ""))}">` +
        `<img src="${src}" alt="${escapeHtml(mathText(b.alt))}"><figcaption>${text(b.alt)} ` +
        `(<a href="${src}">PNG</a>, <a href="${svg}">SVG</a>)</figcaption></figure>`;
    }
    case "code":
      return `<pre><code>${escapeHtml(b.text)}</code></pre>`;
  }
}

/** A self-contained HTML page of a document (images are linked relative to it). */
export function toHtml(title: string, blocks: Block[]): string {
  const body = blocks.map((b) => blockHtml(b)).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font-family: "DejaVu Sans", system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } figure { display: inline-block; margin: 0.5em; } img { max-width: 520px; }
figcaption { font-size: 0.85em; color: #555; } code { background: #f3f3f3; padding: 0 3px; }
.verdict.holds { color: #17692a; } .verdict.fails { color: #b00020; } .verdict.inconclusive { color: #8a5a00; }
</style></head><body>
${body}
</body></html>
`;
}
