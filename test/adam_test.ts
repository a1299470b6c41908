import { Adam } from "../src/optim/adam.ts";
import { Tensor } from "../src/tensor.ts";
import { assertClose, gpuTest, randomArray } from "./helpers.ts";
import { adamReference } from "./reference/adam.ts";

for (const weightDecay of [0, 0.01]) {
  gpuTest(
    `Adam (weight decay ${weightDecay}) follows the float64 reference for 20 steps on 70,001 values`,
    async (gpu) => {
      const n = 70_001;
      const w0 = randomArray(n, 1);
      const grads = Array.from({ length: 20 }, (_, s) => randomArray(n, 100 + s, -2, 2));
      // Some gradients are exactly zero: the update must then stay tiny but finite.
      for (let i = 0; i < n; i += 97) grads.forEach((g) => (g[i] = 0));
      const w = Tensor.from(gpu, w0);
      const g = Tensor.empty(gpu, [n]);
      const adam = new Adam(w, g, { lr: 1e-2, weightDecay });
      for (const grad of grads) {
        gpu.write(g, grad);
        adam.update();
      }
      const ref = adamReference(Float64Array.from(w0), grads.map((x) => Float64Array.from(x)), {
        lr: 1e-2,
        weightDecay,
      });
      // Each step moves a weight by at most about lr (Adam's step is bounded by lr * m/sqrt(v));
      // float32 rounding of the moments and the update gives relative errors near 1e-6 per step,
      // so 20 steps of size 1e-2 stay within 1e-6 absolute of the float64 path.
      assertClose(await w.read(), ref, { atol: 1e-6, rtol: 1e-6 }, "weights");
      adam.dispose();
      w.dispose();
      g.dispose();
    },
  );
}

gpuTest("Adam rejects bad hyper-parameters", (gpu) => {
  const w = Tensor.zeros(gpu, [4]), g = Tensor.zeros(gpu, [4]);
  for (const opts of [{ lr: 0 }, { beta1: 1 }, { eps: -1 }]) {
    let thrown = false;
    try {
      new Adam(w, g, opts);
    } catch {
      thrown = true;
    }
    if (!thrown) throw new Error(`no error for ${JSON.stringify(opts)}`);
  }
  w.dispose();
  g.dispose();
});
