/**
 * `deno task bench:gpu`: the one command to run on a machine with a real GPU behind Vulkan. It
 * runs the kernel checks of the test suite (bench/kernel_checks.ts) and `bench:compare --quick`
 * (PyTorch on CUDA where it sees a GPU, else on the CPU), and writes one JSON: the adapter, every
 * test's outcome, the comparison's results, wall times. Meant to finish within 8 minutes on a
 * GPU; it needs no network (Deno runs with --cached-only, so a contender that is not installed,
 * e.g. tfjs or PyTorch, is reported as unavailable by bench:compare instead of being fetched).
 * On a machine with no network and an empty Deno cache run it as
 * `deno run --allow-all --cached-only bench/gpu_check.ts`: `deno task` first fetches every npm
 * package deno.json imports, which this command does not need.
 *
 * Refuses (exit 1, one line, nothing written) when the adapter runs shaders on the CPU (lavapipe,
 * SwiftShader), unless --allow-cpu is given. Exit 1 as well when a kernel check failed, a test
 * file ran no test, or the comparison failed (the JSON is written then, saying so).
 *
 * Usage: deno task bench:gpu [--json runs/bench-gpu.json] [--allow-cpu]
 * @module
 */
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import {
  describeAdapter,
  findAdapter,
  isSoftwareAdapter,
  NO_ADAPTER_MESSAGE,
} from "../src/gpu/adapter.ts";
import { writeAtomic } from "../src/report/atomic.ts";
import { parseJunit, type TestOutcome } from "./junit.ts";
import { KERNEL_CHECKS } from "./kernel_checks.ts";

/** The wall time the whole command is meant to stay within on a GPU. */
const BUDGET_S = 8 * 60;

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    json: { type: "string", default: "runs/bench-gpu.json" },
    "allow-cpu": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log("Usage: deno task bench:gpu [--json runs/bench-gpu.json] [--allow-cpu]");
  Deno.exit(0);
}

const root = fileURLToPath(new URL("..", import.meta.url));
const adapter = await findAdapter();
if (!adapter) {
  console.error(`bench:gpu: ${NO_ADAPTER_MESSAGE}`);
  Deno.exit(1);
}
const description = describeAdapter(adapter);
if (isSoftwareAdapter(description) && !args["allow-cpu"]) {
  console.error(
    `bench:gpu: the WebGPU adapter is ${description}, which runs on the CPU, not a GPU: run ` +
      `this on a machine with a GPU behind Vulkan, or pass --allow-cpu to run it here anyway`,
  );
  Deno.exit(1);
}
const started = performance.now();
const seconds = (t0: number) => Math.round((performance.now() - t0) / 100) / 10;
const log = (line: string) => console.error(`bench:gpu: ${line}`);

/** Runs Deno with `args` from the repository root, output passed through; exit code. */
async function deno(args: string[]): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).code;
}

const scratch = await Deno.makeTempDir({ prefix: "bench-gpu-" });
try {
  // 1. The kernel checks, one process per file: the JUnit report names the file that registered
  // a test, which for tests made by a helper (gpuTest) is the helper's.
  log(`adapter ${description}; kernel checks: ${KERNEL_CHECKS.length} test files`);
  let t0 = performance.now();
  const outcomes: TestOutcome[] = [];
  const exitCodes: Record<string, number> = {};
  for (const [i, file] of KERNEL_CHECKS.entries()) {
    const junitPath = `${scratch}/tests-${i}.xml`;
    exitCodes[file] = await deno([
      "test",
      "--allow-all",
      "--cached-only",
      `--junit-path=${junitPath}`,
      file,
    ]);
    try {
      outcomes.push(
        ...parseJunit(await Deno.readTextFile(junitPath)).map((o) => ({ ...o, file })),
      );
    } catch {
      // no report: the file failed before any test (counted below)
    }
  }
  const testSeconds = seconds(t0);
  const testExit = Math.max(0, ...Object.values(exitCodes));
  const count = (s: TestOutcome["status"]) => outcomes.filter((o) => o.status === s).length;
  const silent = KERNEL_CHECKS.filter((f) => !outcomes.some((o) => o.file === f));

  // 2. The comparison.
  log("bench:compare --quick");
  const comparePath = `${scratch}/compare.json`;
  t0 = performance.now();
  const compareExit = await deno([
    "run",
    "--allow-all",
    "--cached-only",
    "bench/compare.ts",
    "--quick",
    "--torch-device",
    "auto",
    "--json",
    comparePath,
  ]);
  const compareSeconds = seconds(t0);
  let compare: unknown = null;
  try {
    compare = JSON.parse(await Deno.readTextFile(comparePath));
  } catch {
    // bench:compare stopped before writing (its exit code is recorded)
  }

  const wall = seconds(started);
  const failed = count("failed") > 0 || silent.length > 0 || testExit !== 0 || compareExit !== 0 ||
    compare === null;
  const info = adapter.info;
  const report = {
    adapter: {
      description,
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      fallback: info.isFallbackAdapter,
      software: isSoftwareAdapter(description),
    },
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    wallSeconds: wall,
    budgetSeconds: BUDGET_S,
    ok: !failed,
    tests: {
      files: KERNEL_CHECKS,
      exitCodes,
      seconds: testSeconds,
      passed: count("passed"),
      failed: count("failed"),
      ignored: count("ignored"),
      filesWithoutTests: silent,
      outcomes,
    },
    compare: { exitCode: compareExit, seconds: compareSeconds, results: compare },
  };
  await Deno.mkdir(dirname(args.json!), { recursive: true });
  await writeAtomic(args.json!, JSON.stringify(report, null, 2) + "\n");
  console.log(
    `bench:gpu on ${description}: kernel checks ${count("passed")} passed, ${
      count("failed")
    } failed, ${count("ignored")} ignored (${testSeconds} s)` +
      (silent.length ? `; no test ran in ${silent.join(", ")}` : "") +
      `; bench:compare --quick ${
        compareExit === 0 ? "done" : `failed (exit ${compareExit})`
      } (${compareSeconds} s); ${wall} s in all` +
      (wall > BUDGET_S ? ` (over the ${BUDGET_S} s meant for a GPU)` : "") +
      `; wrote ${args.json}`,
  );
  for (const o of outcomes.filter((o) => o.status === "failed")) {
    console.log(`  FAILED ${o.file}: ${o.name}: ${o.message}`);
  }
  Deno.exitCode = failed ? 1 : 0;
} finally {
  await Deno.remove(scratch, { recursive: true });
}
