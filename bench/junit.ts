/**
 * The outcome of every test in a JUnit XML report as `deno test --junit-path` writes it: one
 * `<testcase>` per test, holding `<failure>` when it failed and `<skipped>` when it was ignored.
 * @module
 */

/** One test and what became of it. */
export interface TestOutcome {
  /** The test file, as the report names it (e.g. "./test/gemm_test.ts"). */
  file: string;
  /** The test's name. */
  name: string;
  /** "passed", "failed", or "ignored" (never counted as passed). */
  status: "passed" | "failed" | "ignored";
  /** Seconds it took. */
  seconds: number;
  /** The failure's message, when it failed. */
  message?: string;
}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function unescape(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] === "#") {
      return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    }
    return ENTITIES[e] ?? whole;
  });
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescape(m[1]) : undefined;
}

/** Every test case of a JUnit XML report, in order. */
export function parseJunit(xml: string): TestOutcome[] {
  const out: TestOutcome[] = [];
  const cases = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(cases)) {
    const tag = m[1], body = m[3] ?? "";
    const failure = /<(failure|error)\b([^>]*)>?/.exec(body);
    const status = failure ? "failed" : /<skipped\b/.test(body) ? "ignored" : "passed";
    out.push({
      file: attribute(tag, "classname") ?? "",
      name: attribute(tag, "name") ?? "",
      status,
      seconds: Number(attribute(tag, "time") ?? NaN),
      ...(failure ? { message: attribute(failure[2], "message") ?? "" } : {}),
    });
  }
  return out;
}
