/**
 * CIFAR-10 in its binary format (cifar-10-batches-bin): records of 1 label byte and 3072
 * image bytes (red, green, blue planes of 32x32, row-major), 10,000 per file, in
 * data_batch_1.bin .. data_batch_5.bin and test_batch.bin. It cannot be downloaded here; the
 * user passes the directory.
 * @module
 */
import { DataError, type Dataset, normalizeBytes } from "./dataset.ts";
import { checkLabels } from "./idx.ts";

const RECORD = 1 + 3 * 32 * 32;

/** Class names, by label. */
export const CIFAR10_CLASSES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/** Reads CIFAR-10 binary files into one dataset. */
export async function readCifarFiles(paths: string[], name: string): Promise<Dataset> {
  const parts: { labels: Uint8Array; pixels: Uint8Array }[] = [];
  for (const path of paths) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new DataError(
          path,
          "file not found (is --data-dir the cifar-10-batches-bin folder?)",
        );
      }
      throw new DataError(path, `cannot read: ${(e as Error).message}`);
    }
    if (bytes.length === 0 || bytes.length % RECORD !== 0) {
      throw new DataError(
        path,
        `truncated or not CIFAR-10 binary: ${bytes.length} bytes is not a multiple of ${RECORD}-byte records`,
      );
    }
    const n = bytes.length / RECORD;
    const labels = new Uint8Array(n);
    const pixels = new Uint8Array(n * (RECORD - 1));
    for (let i = 0; i < n; i++) {
      labels[i] = bytes[i * RECORD];
      pixels.set(bytes.subarray(i * RECORD + 1, (i + 1) * RECORD), i * (RECORD - 1));
    }
    checkLabels(path, labels, 10);
    parts.push({ labels, pixels });
  }
  const total = parts.reduce((s, p) => s + p.labels.length, 0);
  const labels = new Uint8Array(total);
  const pixels = new Uint8Array(total * (RECORD - 1));
  let at = 0;
  for (const p of parts) {
    labels.set(p.labels, at);
    pixels.set(p.pixels, at * (RECORD - 1));
    at += p.labels.length;
  }
  return { name, shape: [3, 32, 32], classes: 10, images: normalizeBytes(pixels), labels };
}

/** Loads the five training batches and the test batch from `dir`. */
export async function loadCifar10(
  dir: string,
): Promise<{ train: Dataset; test: Dataset; dir: string }> {
  try {
    Deno.statSync(dir);
  } catch {
    throw new DataError(dir, "CIFAR-10 directory not found (pass the cifar-10-batches-bin folder)");
  }
  const train = await readCifarFiles(
    [1, 2, 3, 4, 5].map((i) => `${dir}/data_batch_${i}.bin`),
    "cifar10/train",
  );
  const test = await readCifarFiles([`${dir}/test_batch.bin`], "cifar10/test");
  return { train, test, dir };
}
