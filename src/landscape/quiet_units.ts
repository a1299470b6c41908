/**
 * Batch-norm units whose running variance is near zero: units that were (almost) never active
 * in training. In eval mode batch norm divides by sqrt(running_var + eps), so a perturbation that
 * wakes such a unit is multiplied by about 1 / sqrt(eps) (316 at PyTorch's eps = 1e-5), and the
 * few Monte-Carlo points that do so can dominate a Δk estimate. Naming them explains heavy tails.
 * @module
 */
import { BatchNorm } from "../nn/batchnorm.ts";
import type { Sequential } from "../nn/sequential.ts";

/** The near-zero-variance units of one batch-norm layer. */
export interface QuietUnits {
  /** Index of the layer in the model. */
  layer: number;
  /** The parameter's key, e.g. "2.running_var". */
  key: string;
  /** Channels (units) of the layer. */
  channels: number;
  /** The units whose running variance is below the threshold, ascending. */
  units: number[];
  /** Their running variances. */
  variances: number[];
  /** 1 / sqrt(eps): about how much such a unit amplifies a perturbation that wakes it. */
  gain: number;
}

/** The batch-norm units of `model` whose running variance is below `threshold` (default 1e-12). */
export async function quietBatchNormUnits(
  model: Sequential,
  threshold = 1e-12,
): Promise<QuietUnits[]> {
  const out: QuietUnits[] = [];
  for (const e of model.params.entries) {
    const layer = model.layers[e.layer];
    if (e.spec.name !== "running_var" || !(layer instanceof BatchNorm)) continue;
    const v = await e.binding.value.read();
    const units: number[] = [], variances: number[] = [];
    v.forEach((x, i) => {
      if (x < threshold) [units.push(i), variances.push(x)];
    });
    if (units.length > 0) {
      out.push({
        layer: e.layer,
        key: e.key,
        channels: v.length,
        units,
        variances,
        gain: 1 / Math.sqrt(layer.eps),
      });
    }
  }
  return out;
}

/** One line naming the quiet units, or null when there are none. */
export function quietUnitsText(quiet: QuietUnits[], threshold = 1e-12): string | null {
  if (quiet.length === 0) return null;
  const layers = quiet.map((q) =>
    `layer ${q.layer} units ${q.units.slice(0, 12).join(", ")}${
      q.units.length > 12 ? `, ... (${q.units.length} of ${q.channels})` : ` of ${q.channels}`
    }`
  );
  return `batch-norm units with running variance below ${threshold}: ${layers.join("; ")}; ` +
    `a perturbation that wakes one is amplified about ${Math.round(quiet[0].gain)}x and can ` +
    `dominate Δk (heavy tails)`;
}
