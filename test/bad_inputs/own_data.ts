/** Bad own data (--data npy, csv, images): each is refused naming the file or option. */
import { encode as encodePng } from "fast-png";
import type { BadInput } from "./case.ts";
import { encodeNpy } from "../../src/data/npy.ts";

const gray = (w: number, h: number) =>
  encodePng({ width: w, height: h, data: new Uint8Array(w * h).fill(90), channels: 1, depth: 8 });

/** Writes `files` (path relative to the case folder: bytes or text) into `dir`. */
async function write(dir: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(`${dir}/${path}`, content);
    else await Deno.writeFile(`${dir}/${path}`, content);
  }
}

/** A `train` case on own data made of `files`, with `args` naming it. */
function trainCase(
  name: string,
  files: Record<string, Uint8Array | string>,
  args: string[],
  error: RegExp,
  code = 1,
): BadInput {
  return {
    name,
    prepare: (dir) => write(dir, files),
    args: ["train", ...args, "--epochs", "1", "--out", "{dir}/out"],
    error,
    code,
    gpu: true,
  };
}

/** `bytes` with header text `from` replaced by `to` (of the same length). */
function editHeader(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const text = Array.from(bytes.subarray(0, 128), (b) => String.fromCharCode(b)).join("");
  const at = text.indexOf(from);
  const out = bytes.slice();
  out.set(Array.from(to, (c) => c.charCodeAt(0)), at);
  return out;
}

const X = encodeNpy([6, 1, 2, 2], new Float32Array(24).fill(0.5));
const Y = encodeNpy([6], [0, 1, 0, 1, 0, 1], "int64");
const NPY = ["--data", "npy", "--x", "{dir}/my x.npy", "--y", "{dir}/my y.npy"];
const FRACTION = ["--test-fraction", "0.5"];

export const ownDataCases: BadInput[] = [
  trainCase(
    "npy samples of an unsupported dtype",
    { "my x.npy": editHeader(X, "'<f4'", "'<c8'"), "my y.npy": Y },
    [...NPY, ...FRACTION],
    /my x\.npy: dtype <c8 is not supported; save it as float32, uint8 or int64/,
  ),
  trainCase(
    "an npy file cut short in its header",
    { "my x.npy": X.subarray(0, 20), "my y.npy": Y },
    [...NPY, ...FRACTION],
    /my x\.npy: the \.npy header runs past the file's end/,
  ),
  trainCase(
    "npy labels fewer than the samples",
    { "my x.npy": X, "my y.npy": encodeNpy([5], [0, 1, 0, 1, 0], "int64") },
    [...NPY, ...FRACTION],
    /my y\.npy: has 5 labels, .*my x\.npy has 6 samples/,
  ),
  trainCase(
    "npy labels that are not class numbers",
    { "my x.npy": X, "my y.npy": encodeNpy([6], [0, 1, 0.5, 1, 0, 1]) },
    [...NPY, ...FRACTION],
    /my y\.npy: label 0\.5 of sample 2 is not a class number/,
  ),
  trainCase(
    "npy samples in Fortran order",
    {
      "my x.npy": editHeader(X, "'fortran_order': False", "'fortran_order': True "),
      "my y.npy": Y,
    },
    [...NPY, ...FRACTION],
    /my x\.npy: is in Fortran order/,
  ),
  trainCase(
    "own data without a test set",
    { "my x.npy": X, "my y.npy": Y },
    NPY,
    /--data npy needs test samples: pass --test-x and --test-y, or --test-fraction 0\.2/,
    2,
  ),
  trainCase(
    "--mean with more values than the data's channels",
    { "my x.npy": X, "my y.npy": Y },
    [...NPY, ...FRACTION, "--mean", "0.5,0.5", "--std", "1,1"],
    /--mean has 2 values; the samples have 1 channels/,
    2,
  ),
  trainCase(
    "an npy option given for another dataset",
    {},
    ["--data", "synthetic", "--x", "{dir}/my x.npy"],
    /--x is not used with --data synthetic \(it is for --data npy\); leave it out/,
    2,
  ),
  trainCase(
    "a CSV cell that is not a number",
    { "my table.csv": "a,b,kind\n1,2,0\n3,oops,1\n5,6,0\n7,8,1\n" },
    ["--data", "csv", "--file", "{dir}/my table.csv", "--label", "kind", ...FRACTION],
    /my table\.csv: row 3, column 2 \("b"\): "oops" is not a number/,
  ),
  trainCase(
    "a CSV table without the --label column",
    { "my table.csv": "a,b,kind\n1,2,0\n3,4,1\n" },
    ["--data", "csv", "--file", "{dir}/my table.csv", "--label", "class", ...FRACTION],
    /my table\.csv: has no column "class" \(--label\); its header is a, b, kind/,
  ),
  trainCase(
    "a CSV table with no --label",
    { "my table.csv": "a,b,kind\n1,2,0\n3,4,1\n" },
    ["--data", "csv", "--file", "{dir}/my table.csv", ...FRACTION],
    /--data csv needs --label COLUMN/,
    2,
  ),
  trainCase(
    "an image folder whose images differ in size",
    { "imgs/a/1.png": gray(4, 4), "imgs/a/2.png": gray(4, 4), "imgs/b/3.png": gray(3, 4) },
    ["--data", "images", "--dir", "{dir}/imgs", ...FRACTION],
    /imgs\/b\/3\.png: is 3 x 4, the first image .*imgs\/a\/1\.png is 4 x 4/,
  ),
  trainCase(
    "an image folder with an unreadable image",
    { "imgs/a/1.png": gray(4, 4), "imgs/b/2.jpg": "not a jpeg" },
    ["--data", "images", "--dir", "{dir}/imgs", ...FRACTION],
    /imgs\/b\/2\.jpg: cannot decode the image/,
  ),
  trainCase(
    "an image folder that does not exist",
    {},
    ["--data", "images", "--dir", "{dir}/nowhere", ...FRACTION],
    /nowhere: folder not found/,
  ),
];
