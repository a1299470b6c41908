/**
 * Tabular data from a CSV file: a header row naming the columns, one sample per row, numeric
 * features and an integer label column. Quoted cells ("a,b", "say ""hi""") are read as
 * RFC 4180 writes them; rows are numbered as a spreadsheet shows them (the header is row 1).
 * @module
 */
import { DataError } from "./dataset.ts";

/** A CSV table's features and labels. */
export interface CsvTable {
  /** Names of the feature columns, in order. */
  features: string[];
  /** rows x features values, row-major. */
  values: Float64Array;
  /** The label column's value of each row. */
  labels: Float64Array;
}

/** Splits CSV text into rows of cells. */
function rows(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') [cell, i] = [cell + '"', i + 1];
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") [row, cell] = [[...row, cell], ""];
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      out.push([...row, cell]);
      [row, cell] = [[], ""];
    } else cell += c;
  }
  if (cell !== "" || row.length > 0) out.push([...row, cell]);
  // Blank lines (a trailing newline's, say) hold no sample.
  return out.filter((r) => !(r.length === 1 && r[0].trim() === ""));
}

/** Parses a CSV table whose column `label` holds the labels; `file` names it in errors. */
export function parseCsvTable(file: string, text: string, label: string): CsvTable {
  const [header, ...body] = rows(text.replace(/^\uFEFF/, ""));
  if (!header) throw new DataError(file, "is empty; a header row naming the columns is required");
  const names = header.map((h) => h.trim());
  const at = names.indexOf(label);
  if (at < 0) {
    throw new DataError(
      file,
      `has no column "${label}" (--label); its header is ${names.join(", ")}`,
    );
  }
  if (body.length === 0) throw new DataError(file, "has a header but no rows");
  const width = names.length;
  const values = new Float64Array(body.length * (width - 1));
  const labels = new Float64Array(body.length);
  body.forEach((cells, r) => {
    if (cells.length !== width) {
      throw new DataError(
        file,
        `row ${r + 2} has ${cells.length} cells, the header has ${width} columns`,
      );
    }
    let f = 0;
    cells.forEach((cell, c) => {
      const v = Number(cell.trim());
      if (cell.trim() === "" || !Number.isFinite(v)) {
        throw new DataError(
          file,
          `row ${r + 2}, column ${c + 1} ("${names[c]}"): ${
            JSON.stringify(cell)
          } is not a number; every cell must be numeric`,
        );
      }
      if (c === at) labels[r] = v;
      else values[r * (width - 1) + f++] = v;
    });
  });
  return { features: names.filter((_, c) => c !== at), values, labels };
}
