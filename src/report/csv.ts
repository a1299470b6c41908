/**
 * CSV per RFC 4180: comma-separated fields, CRLF line ends, fields containing commas, quotes or
 * line breaks enclosed in double quotes with inner quotes doubled. Numbers are written with
 * full precision (shortest round-trip form), so a parsed CSV gives back the exact values.
 * @module
 */
import { writeAtomic } from "./atomic.ts";

/** A cell: numbers and strings; null and undefined become empty fields. */
export type Cell = string | number | boolean | null | undefined;

function field(v: Cell): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "number"
    ? (Number.isFinite(v) ? String(v) : Number.isNaN(v) ? "NaN" : v > 0 ? "Inf" : "-Inf")
    : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** CSV text of a header row and data rows. */
export function toCsv(header: string[], rows: Cell[][]): string {
  for (const [i, r] of rows.entries()) {
    if (r.length !== header.length) {
      throw new RangeError(`CSV row ${i} has ${r.length} fields, the header ${header.length}`);
    }
  }
  return [header, ...rows].map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}

/** Parses CSV text into rows of strings (RFC 4180; also accepts LF line ends). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], cur = "", quoted = false, i = 0, fieldStarted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cur += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else cur += c;
      i++;
      continue;
    }
    if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
    } else if (c === ",") {
      row.push(cur);
      cur = "";
      fieldStarted = false;
    } else if (c === "\r" || c === "\n") {
      row.push(cur);
      rows.push(row);
      row = [];
      cur = "";
      fieldStarted = false;
      if (c === "\r" && text[i + 1] === "\n") i++;
    } else {
      cur += c;
      fieldStarted = true;
    }
    i++;
  }
  if (quoted) throw new SyntaxError("CSV ends inside a quoted field");
  if (cur !== "" || row.length > 0) {
    row.push(cur);
    rows.push(row);
  }
  return rows;
}

/** Parses a field written by {@link toCsv} back into a number (NaN, Inf, -Inf included). */
export function csvNumber(s: string): number {
  if (s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  return s === "" ? NaN : Number(s);
}

/** Writes CSV to `path` through a temporary file and a rename. */
export async function writeCsv(path: string, header: string[], rows: Cell[][]): Promise<void> {
  await writeAtomic(path, toCsv(header, rows));
}
