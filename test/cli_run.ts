/** Running the command lines inside a test process, with their console output captured. */
import { fileURLToPath } from "node:url";
import { main } from "../src/cli.ts";
import { serveMain } from "../src/serve.ts";

/** An exit code and everything printed. */
export interface CliResult {
  code: number;
  out: string;
}

async function captured(run: () => Promise<number>): Promise<CliResult> {
  let out = "";
  const saved = [console.log, console.error];
  console.log = console.error = (...a: unknown[]) => void (out += a.join(" ") + "\n");
  try {
    return { code: await run(), out };
  } finally {
    [console.log, console.error] = saved;
  }
}

/** Runs `deno task experiment` with `args`; returns its exit code and everything it printed. */
export function cli(...args: string[]): Promise<CliResult> {
  return captured(() => main(args));
}

/** Runs `deno task serve` with `args`, closing the server if one started. */
export function serveCli(...args: string[]): Promise<CliResult> {
  return captured(async () => {
    const { code, server } = await serveMain(args);
    await server?.close();
    return code;
  });
}

/** Runs `deno run -A bench/<script> ...args` in a process of its own: its exit code and stderr. */
export async function benchScript(
  script: string,
  ...args: string[]
): Promise<{ code: number; stderr: string }> {
  const path = fileURLToPath(new URL(`../bench/${script}`, import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}
