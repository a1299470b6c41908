/** A model whose per-sample losses are exactly quadratic in the weights, for exact checks. */
import type { Dataset } from "../src/data/dataset.ts";
import type { Gpu } from "../src/gpu/gpu.ts";
import type { EvalData } from "../src/landscape/loss_matrix.ts";
import { Sequential } from "../src/nn/sequential.ts";
import { randomArray } from "./helpers.ts";
import { augment, linearLayout } from "./reference/curvature.ts";

/**
 * The least-squares test problem: 30 samples of 5 features, a Dense(5 -> 1) model at a fixed
 * w*, squared-error losses (exactly quadratic in the weights, so Hessians are x x^T).
 */
export async function leastSquares(gpu: Gpu) {
  const inF = 5, n = 30;
  const xs = randomArray(n * inF, 1, -1, 1);
  const ys = randomArray(n, 2, -1, 1);
  const dataset: Dataset = {
    name: "lsq",
    shape: [inF],
    classes: 1,
    images: xs,
    labels: new Uint8Array(n),
  };
  const model = new Sequential(gpu, {
    name: "linear",
    inputShape: [inF],
    layers: [{ type: "dense", in: inF, out: 1 }],
  });
  const [wb, bb] = model.params.bindingsOf(0);
  const wStar = randomArray(inF, 3, -0.5, 0.5), bStar = Float32Array.of(0.3);
  gpu.write(wb.value, wStar);
  gpu.write(bb.value, bStar);
  await gpu.flush();
  const data: EvalData = { dataset, loss: "squared-error", targets: ys };
  const x = augment(xs, n);
  const w = Float64Array.from([...wStar, ...bStar]);
  return { model, data, x, y: ys, w, layout: linearLayout(model), n };
}
