/**
 * `losses`: every sample's loss under a checkpoint, from one part of its training split, as
 * `losses.csv` (index in the dataset's file, or the row in the user's own file, label, loss,
 * whether the prediction is correct).
 * @module
 */
import { requireFiniteLosses } from "../landscape/finite.ts";
import { writeCsv } from "../report/csv.ts";
import { sampleLosses } from "../train/sample_losses.ts";
import { sourceIndices } from "../train/training_split.ts";
import { checkpointOptions, loadCheckpointSetup } from "./checkpoint_setup.ts";
import { deviceOptions } from "./common.ts";
import { makeOutDir } from "./out_dir.ts";
import { opt, type Parsed } from "./options.ts";

/** Options of `losses`. */
export const lossesOptions = {
  ...checkpointOptions,
  out: opt.str("output folder", "runs/losses"),
  ...deviceOptions,
};

/** Runs `losses`. */
export async function lossesCommand(o: Parsed<typeof lossesOptions>): Promise<number> {
  const out = o.out ?? "runs/losses";
  await makeOutDir(out);
  const { model, split, samples } = await loadCheckpointSetup(o);
  const { losses, predictions } = await sampleLosses(model, samples);
  // Own data knows each sample's row in the user's file; the built-in datasets' follow the split.
  const index = samples.rows ?? sourceIndices(split, o.split);
  await requireFiniteLosses(model, losses, {
    quantity: "the per-sample loss",
    unit: "sample",
    where: (i) => `${o.split} sample ${index[i]}`,
  });
  model.dispose();
  let sum = 0, correct = 0;
  const rows = Array.from(losses, (loss, i) => {
    const right = predictions[i] === samples.labels[i] ? 1 : 0;
    sum += loss;
    correct += right;
    // 9 significant digits hold a float32 exactly.
    return [index[i], samples.labels[i], Number(loss.toPrecision(9)), right];
  });
  await writeCsv(`${out}/losses.csv`, ["index", "label", "loss", "correct"], rows);
  const n = losses.length;
  console.error(
    `losses: ${n} ${o.split} samples, mean loss ${(sum / n).toFixed(4)}, accuracy ${
      (100 * correct / n).toFixed(2)
    }%; wrote ${out}/losses.csv`,
  );
  return 0;
}
