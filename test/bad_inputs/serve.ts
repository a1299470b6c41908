/** Bad command lines of `deno task serve`. */
import type { BadInput } from "./case.ts";

export const serveCases: BadInput[] = [
  {
    name: "serve: an unknown option",
    program: "serve",
    args: ["--bogus", "--run", "{dir}"],
    error: /^error: Unknown option '--bogus'\nRun 'deno task serve --help' for usage\.\n$/,
    code: 2,
  },
  {
    name: "serve: a port that is not a number",
    program: "serve",
    args: ["--port", "eighty"],
    error: /--port must be a number, got "eighty"/,
    code: 2,
  },
  {
    name: "serve: a port above 65535",
    program: "serve",
    args: ["--port", "70000"],
    error: /--port must be an integer in \[0, 65535\], got 70000/,
    code: 2,
  },
  {
    name: "serve: a run folder that is a file",
    program: "serve",
    prepare: (dir) => Deno.writeTextFile(`${dir}/report.md`, "# not a folder"),
    args: ["--run", "{dir}/report.md", "--port", "0"],
    error: /--run ".*report\.md" is not a folder/,
    code: 2,
  },
];
