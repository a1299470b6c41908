/** Running the command line inside a test process, with its console output captured. */
import { main } from "../src/cli.ts";

/** Runs the CLI with `args`; returns its exit code and everything it printed. */
export async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const saved = [console.log, console.error];
  console.log = console.error = (...a: unknown[]) => void (out += a.join(" ") + "\n");
  try {
    return { code: await main(args), out };
  } finally {
    [console.log, console.error] = saved;
  }
}
