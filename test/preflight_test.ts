/**
 * The README's test command prepares what the tests need: the test task's preflight finds or
 * installs Chromium (never a silently skipped browser test), and CI runs exactly that command.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type ChromiumHost, ensureChromium } from "../src/gpu/preflight.ts";

function host(opts: { installed: boolean; root: boolean; installWorks?: boolean }) {
  const said: string[] = [], installs: string[] = [];
  let installed = opts.installed;
  const h: ChromiumHost = {
    find: () => installed ? "/usr/bin/chromium" : undefined,
    canInstall: () => opts.root,
    install: (pkg) => {
      installs.push(pkg);
      installed = opts.installWorks ?? true;
      return Promise.resolve(installed);
    },
    say: (line) => said.push(line),
  };
  return { h, said, installs };
}

Deno.test("the test preflight installs Chromium as root on Debian, else names the command", async () => {
  let t = host({ installed: true, root: true });
  assert.equal(await ensureChromium(t.h), true);
  assert.deepEqual(t.installs, []);

  t = host({ installed: false, root: true });
  assert.equal(await ensureChromium(t.h), true);
  assert.deepEqual(t.installs, ["chromium"]);
  assert.match(t.said.join("\n"), /Chromium not found/);

  t = host({ installed: false, root: false });
  assert.equal(await ensureChromium(t.h), false);
  assert.deepEqual(t.installs, []);
  assert.equal(t.said.length, 1);
  assert.match(t.said[0], /sudo apt-get install chromium.*CHROMIUM_PATH/);

  t = host({ installed: false, root: true, installWorks: false });
  assert.equal(await ensureChromium(t.h), false);
  assert.match(t.said.at(-1)!, /sudo apt-get install chromium/);
});

Deno.test("CI runs exactly the README's test command, which runs the browser preflight", () => {
  const root = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));
  const readme = Deno.readTextFileSync(root("README.md"));
  const ci = Deno.readTextFileSync(root(".ci/run"));
  const task = JSON.parse(Deno.readTextFileSync(root("deno.json"))).tasks.test as string;
  const command = readme.match(/^(npx -y deno@[\d.]+ task test)\b/m)?.[1];
  assert.ok(command, "the README names a test command");
  assert.ok(ci.split("\n").includes(command), `.ci/run runs "${command}"`);
  assert.doesNotMatch(ci, /apt-get/, ".ci/run installs nothing but Deno");
  assert.match(task, /preflight\.ts --browser &&/);
});
