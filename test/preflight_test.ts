/**
 * The README's test command prepares what the tests need: the test task's preflight finds or
 * installs Chromium (never a silently skipped browser test), and CI runs exactly that command.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ensureTool, type InstallHost } from "../src/gpu/preflight.ts";
import { TEST_TOOLS, type TestTool } from "../src/test_tools.ts";

function machine(opts: { installed: boolean; root: boolean; installWorks?: boolean }) {
  const said: string[] = [], installs: string[] = [];
  let installed = opts.installed;
  const host: InstallHost = {
    canInstall: () => opts.root,
    install: (pkg) => {
      installs.push(pkg);
      installed = opts.installWorks ?? true;
      return Promise.resolve(installed);
    },
    say: (line) => said.push(line),
  };
  const tool = (t: TestTool): TestTool => ({ ...t, present: () => installed });
  return { host, tool, said, installs };
}

Deno.test("the test preflight installs what the tests need as root on Debian, else names the command", async () => {
  const [chromium, torch] = TEST_TOOLS;
  let m = machine({ installed: true, root: true });
  assert.equal(await ensureTool(m.tool(chromium), m.host), true);
  assert.deepEqual(m.installs, []);

  m = machine({ installed: false, root: true });
  assert.equal(await ensureTool(m.tool(chromium), m.host), true);
  assert.deepEqual(m.installs, ["chromium"]);
  assert.match(m.said.join("\n"), /Chromium \(the browser test\) not found/);

  m = machine({ installed: false, root: false });
  assert.equal(await ensureTool(m.tool(chromium), m.host), false);
  assert.deepEqual(m.installs, []);
  assert.equal(m.said.length, 1);
  assert.match(m.said[0], /sudo apt-get install chromium\).*CHROMIUM_PATH/);

  m = machine({ installed: false, root: true, installWorks: false });
  assert.equal(await ensureTool(m.tool(chromium), m.host), false);
  assert.match(m.said.at(-1)!, /sudo apt-get install chromium/);

  m = machine({ installed: false, root: true });
  assert.equal(await ensureTool(m.tool(torch), m.host), true);
  assert.deepEqual(m.installs, ["python3-torch"]);
  m = machine({ installed: false, root: false });
  assert.equal(await ensureTool(m.tool(torch), m.host), false);
  assert.match(m.said[0], /PyTorch .* sudo apt-get install python3-torch\)\.$/);
});

Deno.test("CI runs exactly the README's test command, which runs the test preflight", () => {
  const root = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));
  const readme = Deno.readTextFileSync(root("README.md"));
  const ci = Deno.readTextFileSync(root(".ci/run"));
  const task = JSON.parse(Deno.readTextFileSync(root("deno.json"))).tasks.test as string;
  const command = readme.match(/^(npx -y deno@[\d.]+ task test)\b/m)?.[1];
  assert.ok(command, "the README names a test command");
  assert.ok(ci.split("\n").includes(command), `.ci/run runs "${command}"`);
  assert.doesNotMatch(ci, /apt-get/, ".ci/run installs nothing but Deno");
  assert.match(task, /preflight\.ts --test &&/);
});
