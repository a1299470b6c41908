/**
 * Exports the shipped Fashion-MNIST subset as a user's own data would come: NumPy arrays
 * (x.npy uint8 [N, 1, 28, 28], y.npy int64 [N], and test_x.npy, test_y.npy), folders of PNG
 * images (images/train/CLASS/*.png, images/test/CLASS/*.png) and CSV tables of 7 x 7
 * average-pooled pixels (table.csv, test_table.csv; column "label"), for the README's
 * "Your own model and data".
 *
 *     deno run -A examples/own_data/export_fashion_mnist.ts [OUT] [TRAIN] [TEST]
 *
 * writes into OUT (default runs/own-data) the first TRAIN (default 2000) training and TEST
 * (default 500) test images.
 * @module
 */
import { encode as encodePng } from "fast-png";
import { FASHION_MNIST_FILES } from "../../src/data/fashion_mnist.ts";
import { EMBEDDED_FASHION_MNIST } from "../../src/data/fashion_mnist_files.ts";
import { parseIdx, readMaybeGzip } from "../../src/data/idx.ts";
import { encodeNpy } from "../../src/data/npy.ts";

const CLASSES = [
  "t-shirt",
  "trouser",
  "pullover",
  "dress",
  "coat",
  "sandal",
  "shirt",
  "sneaker",
  "bag",
  "ankle-boot",
];

const [out = "runs/own-data", train = "2000", test = "500"] = Deno.args;

async function part(which: "train" | "test", count: number, prefix: string): Promise<void> {
  const [imagesFile, labelsFile] = FASHION_MNIST_FILES[which].map((f) =>
    `${EMBEDDED_FASHION_MNIST}/${f}`
  );
  const images = parseIdx(imagesFile, await readMaybeGzip(imagesFile), 3).data;
  const labels = parseIdx(labelsFile, await readMaybeGzip(labelsFile), 1).data;
  const n = Math.min(count, labels.length);
  await Deno.writeFile(
    `${out}/${prefix}x.npy`,
    encodeNpy([n, 1, 28, 28], images.subarray(0, n * 784), "uint8"),
  );
  await Deno.writeFile(`${out}/${prefix}y.npy`, encodeNpy([n], labels.subarray(0, n), "int64"));
  const rows = [[...Array.from({ length: 49 }, (_, i) => `p${i}`), "label"].join(",")];
  for (let s = 0; s < n; s++) {
    const pixels = images.subarray(s * 784, (s + 1) * 784);
    const dir = `${out}/images/${which}/${labels[s]}-${CLASSES[labels[s]]}`;
    await Deno.mkdir(dir, { recursive: true });
    const png = encodePng({ width: 28, height: 28, data: pixels, channels: 1, depth: 8 });
    await Deno.writeFile(`${dir}/${String(s).padStart(5, "0")}.png`, png);
    const pooled = Array.from({ length: 49 }, (_, i) => {
      const [y, x] = [Math.floor(i / 7) * 4, (i % 7) * 4];
      let sum = 0;
      for (let dy = 0; dy < 4; dy++) {
        for (let dx = 0; dx < 4; dx++) sum += pixels[(y + dy) * 28 + x + dx];
      }
      return (sum / 16 / 255).toFixed(4);
    });
    rows.push([...pooled, labels[s]].join(","));
  }
  await Deno.writeTextFile(`${out}/${prefix}table.csv`, rows.join("\n") + "\n");
}

await Deno.mkdir(out, { recursive: true });
await part("train", Number(train), "");
await part("test", Number(test), "test_");
console.error(
  `wrote ${out}: x.npy, y.npy, test_x.npy, test_y.npy, table.csv, test_table.csv, images/`,
);
