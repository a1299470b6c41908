import assert from "node:assert/strict";
import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import { parseCsvTable } from "../src/data/csv_table.ts";
import { readImageFolder } from "../src/data/image_folder.ts";
import { encodeNpy, parseNpy } from "../src/data/npy.ts";
import { channelStatistics, loadOwnData } from "../src/data/own_data.ts";

/** A .npy file by hand, as numpy.save writes it, with any header. */
function npyWith(header: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + h.length + data.length);
  out.set([0x93, 78, 85, 77, 80, 89, 1, 0]);
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(h, 10);
  out.set(data, 10 + h.length);
  return out;
}

Deno.test("npy: float32, uint8 and int64 arrays read in C order", () => {
  const f = parseNpy("x.npy", encodeNpy([2, 3], [1, 2, 3, 4, 5, 6.5]));
  assert.deepEqual([f.dtype, f.shape, Array.from(f.data)], ["float32", [2, 3], [
    1,
    2,
    3,
    4,
    5,
    6.5,
  ]]);
  const u = parseNpy("y.npy", encodeNpy([3], [0, 9, 255], "uint8"));
  assert.deepEqual([u.dtype, u.shape, Array.from(u.data)], ["uint8", [3], [0, 9, 255]]);
  const i = parseNpy("y.npy", encodeNpy([2], [7, 3], "int64"));
  assert.deepEqual([i.dtype, Array.from(i.data)], ["int64", [7, 3]]);
  // A header as numpy 1.x writes it, with a 1-tuple shape.
  const h = parseNpy(
    "y.npy",
    npyWith(
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n",
      new Uint8Array(new Float64Array([0.5, -1]).buffer),
    ),
  );
  assert.deepEqual([h.dtype, h.shape, Array.from(h.data)], ["float64", [2], [0.5, -1]]);
});

Deno.test("npy: bad files are refused naming the file and the problem", () => {
  const cases: [Uint8Array, RegExp][] = [
    [
      new TextEncoder().encode("a,b\n1,2\n"),
      /x\.npy: not a \.npy file \(save it with numpy\.save\)/,
    ],
    [
      npyWith("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(16)),
      /x\.npy: dtype <c16 is not supported; save it as float32, uint8 or int64/,
    ],
    [
      npyWith("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(16)),
      /x\.npy: is in Fortran order; save numpy\.ascontiguousarray\(x\)/,
    ],
    [
      npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", new Uint8Array(12)),
      /x\.npy: holds 12 bytes of data, shape \(2, 2\) of float32 needs 16/,
    ],
    [
      npyWith("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(16)),
      /x\.npy: holds Python objects \(a ragged array\?\); every sample must have the same shape/,
    ],
  ];
  for (const [bytes, error] of cases) assert.throws(() => parseNpy("x.npy", bytes), error);
});

Deno.test("csv: a header, numeric features and a label column; bad cells named by row and column", () => {
  const t = parseCsvTable("t.csv", 'a,"label",b\r\n1,0,2\n3.5,1,-4\n\n', "label");
  assert.deepEqual([t.features, Array.from(t.values), Array.from(t.labels)], [["a", "b"], [
    1,
    2,
    3.5,
    -4,
  ], [0, 1]]);
  assert.throws(
    () => parseCsvTable("t.csv", "a,label\n1,0\n2,x\n", "label"),
    /t\.csv: row 3, column 2 \("label"\): "x" is not a number/,
  );
  assert.throws(
    () => parseCsvTable("t.csv", "a,label\n1,0\n,1\n", "label"),
    /t\.csv: row 3, column 1 \("a"\): "" is not a number/,
  );
  assert.throws(
    () => parseCsvTable("t.csv", "a,label\n1,0,5\n", "label"),
    /t\.csv: row 2 has 3 cells, the header has 2 columns/,
  );
  assert.throws(
    () => parseCsvTable("t.csv", "a,b\n1,0\n", "label"),
    /t\.csv: has no column "label" \(--label\); its header is a, b/,
  );
  assert.throws(() => parseCsvTable("t.csv", "", "label"), /t\.csv: is empty; a header row/);
});

async function imageFolder(root: string, images: Record<string, Uint8Array>): Promise<void> {
  for (const [path, bytes] of Object.entries(images)) {
    await Deno.mkdir(`${root}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeFile(`${root}/${path}`, bytes);
  }
}

const gray = (w: number, h: number, v: number) =>
  encodePng({ width: w, height: h, data: new Uint8Array(w * h).fill(v), channels: 1, depth: 8 });

Deno.test("image folder: classes in name order, PNG and JPEG, channel planes in [0, 1]", async () => {
  const root = await Deno.makeTempDir({ prefix: "images " });
  try {
    const rgba = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255]);
    await imageFolder(root, {
      "b/1.png": encodePng({ width: 2, height: 1, data: rgba, channels: 4, depth: 8 }),
      "a/2.jpg": jpeg.encode({ width: 2, height: 1, data: new Uint8Array(8).fill(255) }, 100).data,
      "a/notes.txt": new TextEncoder().encode("not an image"),
    });
    const f = await readImageFolder(root);
    assert.deepEqual([f.classes, f.shape, Array.from(f.labels)], [["a", "b"], [3, 1, 2], [0, 1]]);
    assert.deepEqual(Array.from(f.values.subarray(6)), [1, 0, 0, 1, 0, 0]); // R plane, G, B
    assert.ok(f.values.subarray(0, 6).every((v) => v > 0.98), "a white JPEG");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("image folder: a differing size or an undecodable image is named by its path", async () => {
  const root = await Deno.makeTempDir({ prefix: "images " });
  try {
    await imageFolder(root, { "a/1.png": gray(4, 4, 10), "b/2.png": gray(4, 3, 10) });
    await assert.rejects(
      () => readImageFolder(root),
      /b\/2\.png: is 4 x 3, the first image .*a\/1\.png is 4 x 4; every image must be the same size/,
    );
    await Deno.writeFile(`${root}/b/2.png`, new TextEncoder().encode("garbage"));
    await assert.rejects(() => readImageFolder(root), /b\/2\.png: cannot decode the image/);
    await Deno.remove(`${root}/b/2.png`);
    await assert.rejects(() => readImageFolder(root), /b: holds no \.png, \.jpg or \.jpeg image/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("own data: a seeded test fraction keeps file rows; mean-std uses the training samples", async () => {
  const dir = await Deno.makeTempDir({ prefix: "own data " });
  try {
    const n = 40;
    await Deno.writeFile(
      `${dir}/x.npy`,
      encodeNpy([n, 2], Array.from({ length: 2 * n }, (_, i) => i % 2 ? 100 + i : i)),
    );
    await Deno.writeFile(
      `${dir}/y.npy`,
      encodeNpy([n], Array.from({ length: n }, (_, i) => i % 3), "int64"),
    );
    const o = {
      data: "npy" as const,
      files: { x: `${dir}/x.npy`, y: `${dir}/y.npy` },
      seed: 3,
      testFraction: 0.25,
    };
    const d = await loadOwnData({ ...o, normalize: "mean-std" });
    assert.deepEqual([d.train.labels.length, d.validation.labels.length, d.test.labels.length], [
      27,
      3,
      10,
    ]);
    assert.equal(d.train.classes, 3);
    const rows = [...d.train.rows!, ...d.validation.rows!, ...d.test.rows!].sort((a, b) => a - b);
    assert.deepEqual(rows, Array.from({ length: n }, (_, i) => i), "every row once");
    // Each sample's label is still its row's.
    for (const part of [d.train, d.test]) {
      part.rows!.forEach((r, i) => assert.equal(part.labels[i], r % 3));
    }
    const stats = channelStatistics(d.train);
    assert.ok(
      Math.abs(stats.mean[0]) < 1e-5 && Math.abs(stats.std[1] - 1) < 1e-5,
      JSON.stringify(stats),
    );
    // The same seed splits the same way; explicit statistics reproduce mean-std's.
    const again = await loadOwnData({ ...o, normalize: d.normalization });
    assert.deepEqual(again.test.images, d.test.images);
    assert.deepEqual(again.test.rows, d.test.rows);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("image folder: a test folder is labelled by the training folder's classes", async () => {
  const root = await Deno.makeTempDir({ prefix: "images " });
  try {
    await imageFolder(root, {
      "train/a/1.png": gray(2, 2, 1),
      "train/b/2.png": gray(2, 2, 2),
      "train/c/3.png": gray(2, 2, 3),
      "test/c/4.png": gray(2, 2, 4),
    });
    const d = await loadOwnData({
      data: "images",
      files: { dir: `${root}/train`, testDir: `${root}/test` },
      seed: 0,
      validation: 0,
    });
    assert.deepEqual([d.train.classes, Array.from(d.test.labels)], [3, [2]]);
    await imageFolder(root, { "test/d/5.png": gray(2, 2, 5) });
    await assert.rejects(
      () => readImageFolder(`${root}/test`, ["a", "b", "c"]),
      /test\/d: is not a class of the training folder \(a, b, c\)/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
