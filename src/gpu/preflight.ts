/**
 * Preflight run before every task: is there a WebGPU adapter, and on Linux a Vulkan one? If not,
 * say why and how to fix it in one line; on Debian as root, install Mesa's software Vulkan
 * driver after saying so. Without Vulkan, Deno's WebGPU may still find Mesa's llvmpipe through
 * OpenGL, which works but runs this engine's tests about 5x slower with lower limits.
 *
 * With `--test` (the test task) it also needs what the tests use beyond Deno (Chromium, Debian's
 * PyTorch: src/test_tools.ts), installed the same way (Debian as root) or named in one line; a
 * missing tool is never a skipped test.
 *
 * Usage: `deno run --allow-all src/gpu/preflight.ts [--verbose] [--json] [--test]`
 * (`--json` only probes this process's default backend and prints the result).
 * @module
 */
import { fileURLToPath } from "node:url";
import { missingMessage, TEST_TOOLS, type TestTool } from "../test_tools.ts";
import { describeAdapter, findAdapter, NO_ADAPTER_MESSAGE } from "./adapter.ts";

const DRIVER_PACKAGE = "mesa-vulkan-drivers";

/** What a probe found: the adapter's description, or nothing. */
export interface ProbeResult {
  ok: boolean;
  adapter?: string;
}

/** Probes for an adapter in this process. */
export async function probe(): Promise<ProbeResult> {
  const adapter = await findAdapter();
  return adapter ? { ok: true, adapter: describeAdapter(adapter) } : { ok: false };
}

/** Probes in a fresh process (the Vulkan loader enumerates drivers once per process). */
async function probeChild(backend?: string): Promise<ProbeResult> {
  const env: Record<string, string> = backend ? { DENO_WEBGPU_BACKEND: backend } : {};
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", fileURLToPath(import.meta.url), "--json"],
    env,
    stdout: "piped",
    stderr: "null",
  }).output();
  try {
    return JSON.parse(new TextDecoder().decode(out.stdout)) as ProbeResult;
  } catch {
    return { ok: false };
  }
}

/** Whether this process may install Debian packages (root on Debian). */
export function isDebianRoot(): boolean {
  try {
    Deno.statSync("/etc/debian_version");
  } catch {
    return false;
  }
  return Deno.uid() === 0;
}

async function run(cmd: string, args: string[]): Promise<boolean> {
  const child = new Deno.Command(cmd, {
    args,
    stdout: "inherit",
    stderr: "inherit",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).spawn();
  return (await child.status).success;
}

/** Installs Debian package `pkg` with apt-get after saying so; true when it worked. */
export async function aptInstall(pkg: string): Promise<boolean> {
  console.error(`preflight: installing ${pkg} with apt-get (running as root on Debian)`);
  if (await run("apt-get", ["install", "-y", "-q", pkg])) return true;
  return await run("apt-get", ["update", "-q"]) &&
    await run("apt-get", ["install", "-y", "-q", pkg]);
}

/** What ensureTool asks of the machine (replaceable in tests). */
export interface InstallHost {
  canInstall(): boolean;
  install(pkg: string): Promise<boolean>;
  say(line: string): void;
}

const MACHINE: InstallHost = {
  canInstall: isDebianRoot,
  install: aptInstall,
  say: (line) => console.error(line),
};

/** Finds `tool`, installing its Debian package when allowed; false after saying what to run. */
export async function ensureTool(tool: TestTool, host: InstallHost = MACHINE): Promise<boolean> {
  if (tool.present()) return true;
  if (host.canInstall()) {
    host.say(`preflight: ${missingMessage(tool)}`);
    if (await host.install(tool.pkg) && tool.present()) return true;
  }
  host.say(missingMessage(tool));
  return false;
}

const GL_ONLY_MESSAGE =
  "WebGPU found no Vulkan driver and falls back to OpenGL (slower, lower limits): install your " +
  "GPU's Vulkan driver, or Mesa's software one (Debian/Ubuntu: sudo apt-get install " +
  `${DRIVER_PACKAGE}).`;

/** Checks the adapter, installing the software Vulkan driver when allowed; returns exit code. */
export async function main(args: string[]): Promise<number> {
  if (args.includes("--json")) {
    const result = await probe();
    console.log(JSON.stringify(result));
    return result.ok ? 0 : 1;
  }
  const wantVulkan = Deno.build.os === "linux" && !Deno.env.get("DENO_WEBGPU_BACKEND");
  const hasVulkan = async () => !wantVulkan || (await probeChild("vulkan")).ok;
  let any = await probeChild();
  let vulkan = await hasVulkan();
  if (!vulkan && isDebianRoot()) {
    console.error(any.ok ? `preflight: ${GL_ONLY_MESSAGE}` : `preflight: ${NO_ADAPTER_MESSAGE}`);
    if (await aptInstall(DRIVER_PACKAGE)) {
      any = await probeChild();
      vulkan = await hasVulkan();
    }
  }
  if (!any.ok) {
    console.error(NO_ADAPTER_MESSAGE);
    return 1;
  }
  if (!vulkan) console.error(`preflight: warning: ${GL_ONLY_MESSAGE}`);
  if (args.includes("--verbose")) console.error(`preflight: WebGPU adapter: ${any.adapter}`);
  if (args.includes("--test")) {
    for (const tool of TEST_TOOLS) if (!(await ensureTool(tool))) return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
