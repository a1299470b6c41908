/**
 * Which preset sizes each experiment reads, so that an override an experiment command would not
 * read (`rate --grid 21`, any size given to `report`) is refused instead of recorded in
 * run.json as if it had shaped the results.
 * @module
 */
import type { Preset } from "../experiments/presets.ts";
import type { ExperimentName } from "./experiment_commands.ts";

type Key = keyof Preset;

const TRAIN: Key[] = ["batchSize", "lr", "seed"];
// The models an experiment compares are trained with every seed; Fig. 6 maps the first one's.
const REPLICATED: Key[] = ["seeds"];
const MLP: Key[] = [...TRAIN, "epochs", "mlpHidden", "mlpLayers", "dropout"];
const CNN: Key[] = [...TRAIN, "cnnEpochs", "cnnChannels", "cnnHeadChannels", "cnnPool"];
const LANDSCAPE: Key[] = [
  "grid",
  "range",
  "landscapeSamples",
  "widthDirections",
  "widthRise",
  "widthRadius",
  "widthSteps",
];

/** The preset fields each experiment reads (models it trains, then what it measures). */
export const PRESET_USES: Record<ExperimentName, readonly Key[]> = {
  rate: [
    ...MLP,
    ...REPLICATED,
    "points",
    "samples",
    "sigma",
    "threshold",
    "theoryKs",
    "theorySigma",
    "theoryProbes",
    "theoryPoints",
    "estimator",
  ],
  fig2: [...CNN, ...REPLICATED, "cnnLayers", "dropout", ...LANDSCAPE],
  fig3: [...MLP, ...REPLICATED, ...LANDSCAPE],
  // Fig. 4 compares CNNs without batch norm or dropout at --depths.
  fig4: [...CNN, ...REPLICATED, "depths", ...LANDSCAPE],
  fig5: [...MLP, ...REPLICATED, "points", "samples", "sigmas", "dims", "dimSigma", "estimator"],
  fig6: [...MLP, "integrandGrid", "integrandKs", "integrandSigma", "integrandRange"],
};

/**
 * Why the preset field `key` would not be read by `command` running `experiments`, or undefined
 * when one of them reads it.
 */
export function unusedPresetField(
  command: string,
  experiments: readonly ExperimentName[],
  key: Key,
): string | undefined {
  if (experiments.some((e) => PRESET_USES[e].includes(key))) return undefined;
  return `by ${command} (only ${
    Object.entries(PRESET_USES).filter(([, keys]) => keys.includes(key)).map(([e]) => e).join(
      ", ",
    )
  } read it)`;
}
