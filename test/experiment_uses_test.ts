/** Which preset sizes the experiment commands accept: what they read, and nothing else. */
import assert from "node:assert/strict";
import { experimentCommandOptions, EXPERIMENTS } from "../src/cli/experiment_commands.ts";
import { PRESET_USES } from "../src/cli/experiment_uses.ts";
import { parseOptions } from "../src/cli/options.ts";
import { PRESETS } from "../src/experiments/presets.ts";

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The preset overrides of an option set, each with the default preset's value as text. */
function overrides(): [string, string][] {
  return Object.entries(experimentCommandOptions("all", EXPERIMENTS))
    .filter(([, o]) => o.help.startsWith("override the preset's"))
    .map(([name]) => {
      const v = (PRESETS.default as unknown as Record<string, unknown>)[camel(name)];
      return [name, Array.isArray(v) ? v.join(",") : String(v)];
    });
}

Deno.test("every preset size is read by some experiment, so all and report accept each", () => {
  const all = experimentCommandOptions("all", EXPERIMENTS);
  const report = experimentCommandOptions("report", []);
  assert.ok(overrides().length > 30);
  for (const [name, value] of overrides()) {
    parseOptions([`--${name}`, value], all);
    parseOptions([`--${name}`, value], report);
  }
});

Deno.test("an experiment accepts exactly the preset sizes it reads", () => {
  for (const e of EXPERIMENTS) {
    const options = experimentCommandOptions(e, [e]);
    for (const [name, value] of overrides()) {
      const reads = (PRESET_USES[e] as string[]).includes(camel(name));
      if (reads) parseOptions([`--${name}`, value], options);
      else {
        assert.throws(
          () => parseOptions([`--${name}`, value], options),
          new RegExp(`--${name} is not used by ${e} \\(only .* read it\\); leave it out`),
        );
      }
    }
  }
});
