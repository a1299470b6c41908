/**
 * Preflight run before every task: is there a WebGPU adapter? If not, say why and how to fix
 * it; on Debian as root, install Mesa's software Vulkan driver after saying so.
 *
 * Usage: `deno run --allow-all src/gpu/preflight.ts [--verbose]`
 * @module
 */
import { describeAdapter, findAdapter, NO_ADAPTER_MESSAGE } from "./adapter.ts";

const DRIVER_PACKAGE = "mesa-vulkan-drivers";

/** Result of {@link preflight}: the adapter description, or why there is none. */
export interface PreflightResult {
  ok: boolean;
  adapter?: string;
  message?: string;
}

/** Checks for an adapter in this process. */
export async function preflight(): Promise<PreflightResult> {
  const adapter = await findAdapter();
  if (adapter) return { ok: true, adapter: describeAdapter(adapter) };
  return { ok: false, message: NO_ADAPTER_MESSAGE };
}

function isDebianRoot(): boolean {
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

async function installDriver(): Promise<boolean> {
  console.error(
    `preflight: no WebGPU adapter; installing ${DRIVER_PACKAGE} with apt-get (running as root on Debian)`,
  );
  if (await run("apt-get", ["install", "-y", "-q", DRIVER_PACKAGE])) return true;
  return await run("apt-get", ["update", "-q"]) &&
    await run("apt-get", ["install", "-y", "-q", DRIVER_PACKAGE]);
}

/** Re-checks in a fresh process: the Vulkan loader of this one has already enumerated. */
async function checkInChild(): Promise<PreflightResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      import.meta.filename ?? new URL(import.meta.url).pathname,
      "--json",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  try {
    return JSON.parse(new TextDecoder().decode(out.stdout)) as PreflightResult;
  } catch {
    return { ok: false, message: NO_ADAPTER_MESSAGE };
  }
}

if (import.meta.main) {
  const verbose = Deno.args.includes("--verbose");
  let result = await preflight();
  if (Deno.args.includes("--json")) {
    console.log(JSON.stringify(result));
    Deno.exit(result.ok ? 0 : 1);
  }
  if (!result.ok && isDebianRoot() && await installDriver()) result = await checkInChild();
  if (!result.ok) {
    console.error(result.message);
    Deno.exit(1);
  }
  if (verbose) console.error(`preflight: WebGPU adapter: ${result.adapter}`);
}
