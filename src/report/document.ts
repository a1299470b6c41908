/**
 * A small document model rendered to Markdown and to a self-contained HTML page, so the two
 * report formats always say the same thing.
 * @module
 */

/** One block of a report. */
export type Block =
  | { kind: "heading"; level: 1 | 2 | 3; text: string }
  | { kind: "paragraph"; text: string }
  | { kind: "table"; header: string[]; rows: string[][] }
  | { kind: "image"; path: string; alt: string }
  | { kind: "code"; text: string };

const escapeHtml = (s: string) =>
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

/** Inline `code` and **bold** of paragraph text as HTML. */
function inline(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>").replace(
    /\*\*([^*]+)\*\*/g,
    "<strong>$1</strong>",
  );
}

/** A self-contained HTML page of a document (images are linked relative to it). */
export function toHtml(title: string, blocks: Block[]): string {
  const body = blocks.map((b) => {
    switch (b.kind) {
      case "heading":
        return `<h${b.level}>${inline(b.text)}</h${b.level}>`;
      case "paragraph":
        return `<p>${inline(b.text)}</p>`;
      case "table":
        return `<table><thead><tr>${
          b.header.map((h) => `<th>${inline(h)}</th>`).join("")
        }</tr></thead><tbody>` +
          b.rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("") +
          "</tbody></table>";
      case "image":
        return `<figure><img src="${escapeHtml(b.path)}" alt="${escapeHtml(b.alt)}"><figcaption>${
          inline(b.alt)
        }</figcaption></figure>`;
      case "code":
        return `<pre><code>${escapeHtml(b.text)}</code></pre>`;
    }
  }).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font-family: "DejaVu Sans", system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } figure { display: inline-block; margin: 0.5em; } img { max-width: 520px; }
figcaption { font-size: 0.85em; color: #555; } code { background: #f3f3f3; padding: 0 3px; }
</style></head><body>
${body}
</body></html>
`;
}
