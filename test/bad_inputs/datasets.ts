/** Bad dataset folders: each is refused naming the file, before --out is created. */
import type { BadInput } from "./case.ts";
import { encodeIdx, gzip } from "../../src/data/write_idx.ts";
import { FASHION_MNIST_FILES } from "../../src/data/fashion_mnist.ts";

/** Writes a Fashion-MNIST folder `dir`/fm with `train` training and 3 test images. */
async function fashionMnist(dir: string, train: number): Promise<string> {
  const root = `${dir}/fm`;
  await Deno.mkdir(root);
  const write = async (name: string, sizes: number[]) =>
    await Deno.writeFile(
      `${root}/${name}`,
      await gzip(encodeIdx(sizes, new Uint8Array(sizes.reduce((a, b) => a * b, 1)))),
    );
  for (const [part, count] of [["train", train], ["test", 3]] as const) {
    await write(FASHION_MNIST_FILES[part][0], [count, 28, 28]);
    await write(FASHION_MNIST_FILES[part][1], [count]);
  }
  return root;
}

export const datasetCases: BadInput[] = [
  {
    name: "training images that hold no images (train)",
    prepare: async (dir) => void await fashionMnist(dir, 0),
    args: ["train", "--data-dir", "{dir}/fm", "--out", "{dir}/out"],
    error: /fm\/train-images-idx3-ubyte\.gz: holds no images/,
    code: 1,
    gpu: true,
  },
  {
    name: "training images that hold no images (an experiment: no run.json either)",
    prepare: async (dir) => void await fashionMnist(dir, 0),
    args: [
      "rate",
      "--preset",
      "tiny",
      "--data",
      "fashion-mnist",
      "--data-dir",
      "{dir}/fm",
      "--out",
      "{dir}/out",
    ],
    error: /fm\/train-images-idx3-ubyte\.gz: holds no images/,
    code: 1,
    gpu: true,
  },
  {
    name: "test labels missing, gzipped or not",
    prepare: async (dir) => {
      await Deno.remove(`${await fashionMnist(dir, 4)}/${FASHION_MNIST_FILES.test[1]}`);
    },
    args: ["train", "--data-dir", "{dir}/fm", "--out", "{dir}/out"],
    error: /t10k-labels-idx1-ubyte\.gz: file not found \(nor t10k-labels-idx1-ubyte\)/,
    code: 1,
    gpu: true,
  },
  {
    name: "a training set of one image, too small to hold out validation",
    prepare: async (dir) => void await fashionMnist(dir, 1),
    args: ["train", "--data-dir", "{dir}/fm", "--out", "{dir}/out"],
    error: /fashion-mnist\/train has 1 sample; holding out validation needs at least 2/,
    code: 1,
    gpu: true,
  },
];
