import assert from "node:assert/strict";
import { csvNumber, parseCsv, toCsv } from "../src/report/csv.ts";

Deno.test("CSV follows RFC 4180: CRLF rows, quoted fields with commas, quotes and line breaks", () => {
  const text = toCsv(["name", "value"], [["a,b", 1.5], ['say "hi"', -2], ["two\nlines", null], [
    "plain",
    NaN,
  ]]);
  assert.equal(
    text,
    'name,value\r\n"a,b",1.5\r\n"say ""hi""",-2\r\n"two\nlines",\r\nplain,NaN\r\n',
  );
  assert.deepEqual(parseCsv(text), [["name", "value"], ["a,b", "1.5"], ['say "hi"', "-2"], [
    "two\nlines",
    "",
  ], ["plain", "NaN"]]);
});

Deno.test("numbers round-trip exactly through CSV", () => {
  const values = [0.1 + 0.2, 1e-300, 123456789.123456789, Math.PI, -0, Infinity, -Infinity, 5e-324];
  const back = parseCsv(toCsv(["v"], values.map((v) => [v]))).slice(1).map((r) => csvNumber(r[0]));
  assert.deepEqual(back, values.map((v) => (Object.is(v, -0) ? 0 : v)));
  assert.ok(Number.isNaN(csvNumber("NaN")));
});

Deno.test("CSV rejects ragged rows and unterminated quotes", () => {
  assert.throws(() => toCsv(["a", "b"], [[1]]), /row 0 has 1 fields, the header 2/);
  assert.throws(() => parseCsv('a,"b\r\n'), /inside a quoted field/);
});
