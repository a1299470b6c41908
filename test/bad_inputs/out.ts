/** Unusable output folders (--out): named by the option, before any work. */
import type { BadInput } from "./case.ts";

const aFile = (dir: string) => Deno.writeTextFile(`${dir}/taken`, "a file");

export const outCases: BadInput[] = [
  {
    name: "--out is a file (train)",
    prepare: aFile,
    args: ["train", "--data", "synthetic", "--out", "{dir}/taken"],
    error: /--out ".*taken" is a file, not a folder; pass a folder/,
    code: 2,
  },
  {
    name: "--out is a file (delta)",
    prepare: aFile,
    args: ["delta", "--checkpoint", "{dir}/none.safetensors", "--out", "{dir}/taken"],
    error: /--out ".*taken" is a file, not a folder/,
    code: 2,
  },
  {
    name: "--out is a file (an experiment)",
    prepare: aFile,
    args: ["rate", "--preset", "tiny", "--data", "synthetic", "--out", "{dir}/taken"],
    error: /--out ".*taken" is a file, not a folder/,
    code: 2,
  },
  {
    name: "--out lies below a file",
    prepare: aFile,
    args: ["train", "--data", "synthetic", "--out", "{dir}/taken/run/x"],
    error: /--out ".*taken\/run\/x" cannot be created: ".*taken" is a file, not a folder/,
    code: 2,
  },
];
