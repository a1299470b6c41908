/** The README's worked example: the exported Fashion-MNIST files read back as the same data. */
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { loadOwnData } from "../src/data/own_data.ts";
import { parseModelSpec } from "../src/nn/model_spec.ts";

const EXAMPLES = fileURLToPath(new URL("../examples/own_data/", import.meta.url));

Deno.test("the exported .npy arrays, PNG folders and CSV tables hold the same samples", async () => {
  const dir = await Deno.makeTempDir({ prefix: "own example " });
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${EXAMPLES}export_fashion_mnist.ts`, dir, "30", "10"],
    }).output();
    assert.ok(run.success, new TextDecoder().decode(run.stderr));
    const options = { seed: 0, validation: 0 };
    const npy = await loadOwnData({
      ...options,
      data: "npy",
      files: {
        x: `${dir}/x.npy`,
        y: `${dir}/y.npy`,
        testX: `${dir}/test_x.npy`,
        testY: `${dir}/test_y.npy`,
      },
    });
    const images = await loadOwnData({
      ...options,
      data: "images",
      files: { dir: `${dir}/images/train`, testDir: `${dir}/images/test` },
    });
    const csv = await loadOwnData({
      ...options,
      data: "csv",
      files: { file: `${dir}/table.csv`, label: "label", testFile: `${dir}/test_table.csv` },
    });
    assert.deepEqual([npy.train.shape, npy.train.labels.length, npy.test.labels.length], [
      [1, 28, 28],
      30,
      10,
    ]);
    assert.deepEqual(csv.train.shape, [49]);
    // Folders are read class by class: each PNG sample is an .npy sample with the same label.
    for (const part of ["train", "test"] as const) {
      const byLabel = (d: typeof npy.train) =>
        Array.from(d.labels, (l, i) => `${l}:${d.images.subarray(i * 784, (i + 1) * 784).join()}`)
          .sort();
      assert.deepEqual(byLabel(images[part]), byLabel(npy[part]), part);
      assert.deepEqual(csv[part].labels, npy[part].labels, part);
    }
    const spec = parseModelSpec(
      await Deno.readTextFile(`${EXAMPLES}small_cnn.json`),
      "small_cnn.json",
    );
    assert.deepEqual(spec.inputShape, npy.train.shape);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
