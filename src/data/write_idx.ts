/**
 * Writes IDX files (optionally gzipped): used to cut the shipped Fashion-MNIST subset and by
 * tests that need files in that exact format.
 *
 * Usage: `deno run -A src/data/write_idx.ts SRC_DIR OUT_DIR TRAIN_COUNT TEST_COUNT` writes the
 * first TRAIN_COUNT training and TEST_COUNT test samples of the Fashion-MNIST files in SRC_DIR.
 * @module
 */
import { parseIdx, readMaybeGzip } from "./idx.ts";
import { writeAtomic } from "../report/atomic.ts";

/** IDX bytes: magic 0x0800 + dims, big-endian sizes, data. */
export function encodeIdx(sizes: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * sizes.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x800 + sizes.length, false);
  sizes.forEach((s, i) => view.setUint32(4 + 4 * i, s, false));
  out.set(data, 4 + 4 * sizes.length);
  return out;
}

/** Gzip-compresses bytes. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function cut(
  src: string,
  out: string,
  name: string,
  dims: number,
  count: number,
): Promise<void> {
  const { sizes, data } = parseIdx(`${src}/${name}`, await readMaybeGzip(`${src}/${name}`), dims);
  const per = sizes.slice(1).reduce((a, b) => a * b, 1);
  const n = Math.min(count, sizes[0]);
  await writeAtomic(
    `${out}/${name}`,
    await gzip(encodeIdx([n, ...sizes.slice(1)], data.subarray(0, n * per))),
  );
}

if (import.meta.main) {
  const [src, out, train, test] = Deno.args;
  if (!src || !out || !train || !test) {
    console.error("usage: write_idx.ts SRC_DIR OUT_DIR TRAIN_COUNT TEST_COUNT");
    Deno.exit(2);
  }
  await Deno.mkdir(out, { recursive: true });
  await cut(src, out, "train-images-idx3-ubyte.gz", 3, Number(train));
  await cut(src, out, "train-labels-idx1-ubyte.gz", 1, Number(train));
  await cut(src, out, "t10k-images-idx3-ubyte.gz", 3, Number(test));
  await cut(src, out, "t10k-labels-idx1-ubyte.gz", 1, Number(test));
}
