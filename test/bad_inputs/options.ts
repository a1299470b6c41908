/** Bad command-line options. */
import type { BadInput } from "./case.ts";

export const optionCases: BadInput[] = [
  {
    name: "an unknown option",
    args: ["train", "--bogus", "1", "--out", "{dir}/out"],
    error: /Unknown option '--bogus'/,
    code: 2,
  },
  {
    name: "a data folder that does not exist",
    args: ["train", "--data-dir", "{dir}/missing", "--out", "{dir}/out"],
    error: /--data-dir ".*missing" does not exist/,
    code: 2,
  },
];
