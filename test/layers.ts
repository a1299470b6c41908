/** Building single layers for tests: parameters in a ParamStore, set to given values. */
import type { Gpu } from "../src/gpu/gpu.ts";
import type { Layer } from "../src/nn/layer.ts";
import { ParamStore } from "../src/nn/param_store.ts";
import { Tensor } from "../src/tensor.ts";
import { randomArray } from "./helpers.ts";

/**
 * Binds `layer` to a fresh ParamStore, placed after `lead` unused elements so flat offsets are
 * not zero, with each parameter set to `values[name]` or random values in [-1, 1).
 */
export function setupLayer(
  gpu: Gpu,
  layer: Layer,
  inputShape: readonly number[],
  { values = {}, seed = 1, lead = 0 }: {
    values?: Record<string, Float32Array>;
    seed?: number;
    lead?: number;
  } = {},
): { store: ParamStore; values: Record<string, Float32Array> } {
  const specs = layer.paramSpecs(inputShape);
  const leading = lead > 0
    ? [[{
      name: "lead",
      shape: [lead],
      kind: "weight" as const,
      init: { kind: "constant" as const, value: 0 },
    }]]
    : [];
  const store = ParamStore.create(gpu, [...leading, specs]);
  const index = leading.length;
  const bindings = store.bindingsOf(index);
  layer.bind(bindings);
  const out: Record<string, Float32Array> = {};
  specs.forEach((spec, i) => {
    const n = bindings[i].value.size;
    out[spec.name] = values[spec.name] ?? randomArray(n, seed * 131 + i, -1, 1);
    gpu.write(bindings[i].value, out[spec.name]);
  });
  return { store, values: out };
}

/** Reads a parameter's gradient. */
export async function gradOf(
  store: ParamStore,
  layerIndex: number,
  name: string,
): Promise<Float32Array> {
  const entry = store.entries.find((e) => e.layer === layerIndex && e.spec.name === name);
  if (!entry?.binding.grad) throw new Error(`no gradient for ${name}`);
  return await entry.binding.grad.read();
}

/** Uploads x as an activation [1, B, ...sample]. */
export function activation(
  gpu: Gpu,
  x: Float32Array,
  batch: number,
  sample: readonly number[],
): Tensor {
  return Tensor.from(gpu, x, [1, batch, ...sample]);
}
