import assert from "node:assert/strict";
import { batchCount, batchIndices, epochOrder, gather } from "../src/data/batches.ts";
import { loadCifar10 } from "../src/data/cifar10.ts";
import { DataError, datasetSize, holdOut } from "../src/data/dataset.ts";
import {
  EMBEDDED_FASHION_MNIST,
  loadFashionMnist,
  readIdxPair,
} from "../src/data/fashion_mnist_files.ts";
import { synthetic } from "../src/data/synthetic.ts";
import { encodeIdx, gzip } from "../src/data/write_idx.ts";

async function rejectsWith(
  f: () => Promise<unknown>,
  file: string,
  problem: RegExp,
): Promise<void> {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof DataError, `expected DataError, got ${e}`);
    assert.ok(e.message.includes(file), `message "${e.message}" does not name ${file}`);
    assert.match(e.message, problem);
    return;
  }
  throw new Error(`expected an error naming ${file} and matching ${problem}`);
}

Deno.test("the shipped Fashion-MNIST subset loads: 10,000 + 2,000 images in [-1, 1], labels 0..9", async () => {
  const { train, test } = await loadFashionMnist(EMBEDDED_FASHION_MNIST);
  assert.equal(datasetSize(train), 10_000);
  assert.equal(datasetSize(test), 2_000);
  assert.deepEqual(train.shape, [1, 28, 28]);
  assert.equal(train.images.length, 10_000 * 784);
  let lo = Infinity, hi = -Infinity;
  for (const v of train.images) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  assert.equal(lo, -1);
  assert.equal(hi, 1);
  assert.ok(train.labels.every((l) => l < 10));
  assert.equal(new Set(train.labels).size, 10);
});

Deno.test("malformed IDX files give errors naming the file and the problem", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const images = (n: number) => encodeIdx([n, 2, 2], new Uint8Array(n * 4).fill(7));
    const labels = (values: number[]) => encodeIdx([values.length], Uint8Array.from(values));
    const write = async (name: string, bytes: Uint8Array, zip = true) => {
      const path = `${dir}/${name}`;
      await Deno.writeFile(path, zip ? await gzip(bytes) : bytes);
      return path;
    };
    const goodImages = await write("img.gz", images(3));
    const goodLabels = await write("lab.gz", labels([0, 1, 2]));
    const d = await readIdxPair(goodImages, goodLabels, "t");
    assert.deepEqual(d.shape, [1, 2, 2]);
    assert.equal(d.images[0], Math.fround((7 / 255 - 0.5) / 0.5));

    const badMagic = images(3);
    badMagic[3] = 0x01;
    await rejectsWith(() => readIdxPair(`${dir}/x`, goodLabels, "t"), `${dir}/x`, /file not found/);
    const magicPath = await write("magic.gz", badMagic);
    await rejectsWith(
      () => readIdxPair(magicPath, goodLabels, "t"),
      magicPath,
      /wrong magic number 0x00000801, expected 0x00000803/,
    );
    const truncPath = await write("trunc.gz", images(3).subarray(0, 20));
    await rejectsWith(
      () => readIdxPair(truncPath, goodLabels, "t"),
      truncPath,
      /truncated: header says \[3 x 2 x 2\] = 12 bytes/,
    );
    const rangePath = await write("range.gz", labels([0, 12, 2]));
    await rejectsWith(
      () => readIdxPair(goodImages, rangePath, "t"),
      rangePath,
      /label 12 at index 1 is outside 0..9/,
    );
    const countPath = await write("count.gz", labels([0, 1]));
    await rejectsWith(
      () => readIdxPair(goodImages, countPath, "t"),
      goodImages,
      /has 3 images but .* has 2 labels/,
    );
    const badGzip = await write("bad.gz", Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), false);
    await rejectsWith(
      () => readIdxPair(badGzip, goodLabels, "t"),
      badGzip,
      /not a valid gzip file/,
    );
    const empty = await write("empty.gz", images(0));
    const noLabels = await write("none.gz", labels([]));
    await rejectsWith(
      () => readIdxPair(empty, noLabels, "t"),
      empty,
      /holds no images \(its header declares 0\)/,
    );
    await rejectsWith(
      () => readIdxPair(`${dir}/gone.gz`, goodLabels, "t"),
      `${dir}/gone.gz`,
      /file not found \(nor gone\)/,
    );
    await rejectsWith(
      () => loadFashionMnist(`${dir}/missing`),
      `${dir}/missing`,
      /data directory not found/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IDX files read in either form: gunzipped under the name without .gz, plain under a .gz name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const images = encodeIdx([2, 2, 2], new Uint8Array(8).fill(255));
    await Deno.writeFile(`${dir}/img`, images); // gunzipped by the user
    await Deno.writeFile(`${dir}/lab.gz`, encodeIdx([2], Uint8Array.from([3, 4]))); // not gzipped
    const d = await readIdxPair(`${dir}/img.gz`, `${dir}/lab.gz`, "t");
    assert.deepEqual([...d.labels], [3, 4]);
    assert.equal(d.images[0], 1);
    const same = await readIdxPair(`${dir}/img`, `${dir}/lab`, "t");
    assert.deepEqual(same.images, d.images);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CIFAR-10 binary files load, with errors naming the file for bad ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const record = (label: number, fill: number) => {
      const r = new Uint8Array(3073).fill(fill);
      r[0] = label;
      r[1 + 1024] = 255; // first green pixel
      return r;
    };
    const file = (records: Uint8Array[]) => {
      const out = new Uint8Array(records.length * 3073);
      records.forEach((r, i) => out.set(r, i * 3073));
      return out;
    };
    for (let b = 1; b <= 5; b++) {
      await Deno.writeFile(`${dir}/data_batch_${b}.bin`, file([record(b, 0), record(9, 51)]));
    }
    await Deno.writeFile(`${dir}/test_batch.bin`, file([record(3, 102)]));
    const { train, test } = await loadCifar10(dir);
    assert.equal(datasetSize(train), 10);
    assert.deepEqual([...train.labels], [1, 9, 2, 9, 3, 9, 4, 9, 5, 9]);
    assert.deepEqual(test.shape, [3, 32, 32]);
    assert.equal(train.images[0], -1); // red plane of record 0, byte 0
    assert.equal(train.images[1024], 1); // green plane starts at 1024 (CHW)
    assert.ok(Math.abs(test.images[5] - (102 / 255 - 0.5) / 0.5) < 1e-7);

    await Deno.writeFile(`${dir}/test_batch.bin`, file([record(10, 0)]));
    await rejectsWith(
      () => loadCifar10(dir),
      `${dir}/test_batch.bin`,
      /label 10 at index 0 is outside 0..9/,
    );
    await Deno.writeFile(`${dir}/test_batch.bin`, file([record(1, 0)]).subarray(0, 3000));
    await rejectsWith(
      () => loadCifar10(dir),
      `${dir}/test_batch.bin`,
      /not a multiple of 3073-byte records/,
    );
    await Deno.remove(`${dir}/data_batch_4.bin`);
    await rejectsWith(() => loadCifar10(dir), `${dir}/data_batch_4.bin`, /file not found/);
    await rejectsWith(() => loadCifar10(`${dir}/nope`), `${dir}/nope`, /directory not found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("synthetic data, validation hold-out and epoch orders are seeded and reproducible", () => {
  const a = synthetic({ samples: 500, seed: 3 }), b = synthetic({ samples: 500, seed: 3 });
  assert.deepEqual(a.images, b.images);
  assert.deepEqual(a.labels, b.labels);
  assert.notDeepEqual(synthetic({ samples: 500, seed: 3, part: 1 }).labels, a.labels);
  const split = holdOut(a, 100, 9);
  assert.equal(datasetSize(split.validation), 100);
  assert.equal(datasetSize(split.train), 400);
  assert.deepEqual(holdOut(a, 100, 9).validation.labels, split.validation.labels);
  assert.throws(() => holdOut(a, 500, 9), /validation size must be in \[1, 499\] \(.* has 500/);
  assert.throws(
    () => holdOut(synthetic({ samples: 1 }), 1, 0),
    /has 1 sample; holding out validation needs at least 2/,
  );
  const o1 = epochOrder(1000, 5, 0), o2 = epochOrder(1000, 5, 1);
  assert.deepEqual(o1, epochOrder(1000, 5, 0));
  assert.notDeepEqual(o1, o2);
  const sizes = [...batchIndices(o1, 64)].map((b) => b.length);
  assert.equal(sizes.length, batchCount(a, 64) * 2);
  assert.equal(sizes.at(-1), 1000 - 15 * 64);
  assert.equal([...batchIndices(o1, 64, true)].length, 15);
  const g = gather(a, [4, 2]);
  assert.deepEqual([...g.labels], [a.labels[4], a.labels[2]]);
  assert.deepEqual(g.images.subarray(0, 64), a.images.subarray(4 * 64, 5 * 64));
});
