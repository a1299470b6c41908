/** bench:gpu reads `deno test`'s JUnit report: every outcome, ignored tests never as passed. */
import assert from "node:assert/strict";
import { parseJunit } from "../bench/junit.ts";

// What `deno test --junit-path` wrote for a failing, an ignored and a passing test.
const REPORT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="3" failures="1" errors="0" time="0.014">
    <testsuite name="./test/x_test.ts" tests="3" disabled="1" errors="0" failures="1">
        <testcase name="a &lt;b&gt; &amp; &quot;c&quot;" classname="./test/x_test.ts" time="0.007" line="1" col="6">
            <failure message="Uncaught Error: boom &lt;x&gt; &amp; y">Error: boom &lt;x&gt; &amp; y
    at file:///test/x_test.ts:1:42</failure>
        </testcase>
        <testcase name="skipped one" classname="./test/x_test.ts" time="0.000" line="2" col="6">
            <skipped/>
        </testcase>
        <testcase name="fine &#233;" classname="./test/x_test.ts" time="1.250" line="3" col="6">
        </testcase>
    </testsuite>
</testsuites>`;

Deno.test("JUnit report: names unescaped, failures with their message, ignored kept apart", () => {
  assert.deepEqual(parseJunit(REPORT), [
    {
      file: "./test/x_test.ts",
      name: 'a <b> & "c"',
      status: "failed",
      seconds: 0.007,
      message: "Uncaught Error: boom <x> & y",
    },
    { file: "./test/x_test.ts", name: "skipped one", status: "ignored", seconds: 0 },
    { file: "./test/x_test.ts", name: "fine é", status: "passed", seconds: 1.25 },
  ]);
  assert.deepEqual(parseJunit(`<testsuites name="deno test" tests="0"></testsuites>`), []);
});
