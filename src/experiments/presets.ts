/**
 * Sizes of the paper's experiments. `default` finishes every experiment on the shipped
 * Fashion-MNIST subset in minutes on a 2-core machine without a GPU (software Vulkan), with
 * smaller grids, fewer points and a slimmer CNN on 14x14 images; `paper` uses the paper's scale
 * (full data, 51x51 grids, 64-channel CNNs) for a real GPU; `tiny` is for tests. Every field can
 * be overridden from the command line.
 * @module
 */
import type { DatasetName } from "../data/load.ts";
import type { Estimator } from "../landscape/delta.ts";

/** Every size an experiment run uses. */
export interface Preset {
  name: string;
  /** Dataset and how much of it. */
  data: DatasetName;
  dataDir?: string;
  trainLimit?: number;
  validation?: number;
  /** Average-pool images by this factor for the CNN experiments (1 keeps them). */
  cnnPool: number;
  /** Training: epochs of the MLPs and of the CNNs. */
  epochs: number;
  cnnEpochs: number;
  batchSize: number;
  lr: number;
  /** The paper's MLP: 4 hidden layers of 128, dropout 0.05 in its Fig. 5 model. */
  mlpHidden: number;
  mlpLayers: number;
  dropout: number;
  /** The paper's CNN: 64 channels, 4 blocks; depths compared in Fig. 4. */
  cnnChannels: number;
  cnnLayers: number;
  cnnHeadChannels: number;
  depths: number[];
  /** 2D landscapes (Figs. 2-4): grid points per axis, coefficient range, evaluation samples. */
  grid: number;
  range: number;
  landscapeSamples: number;
  /** Landscape width: random rays, loss rise that marks the edge (nats), largest radius, probes. */
  widthDirections: number;
  widthRise: number;
  widthRadius: number;
  widthSteps: number;
  /** Δk (Fig. 5 and the rate): Monte-Carlo points T, samples n = K + 1, sigma of the main curve. */
  points: number;
  samples: number;
  sigma: number;
  /** Fig. 5: sigmas of the sweep; subspace dimensions and their sigma. */
  sigmas: number[];
  dims: number[];
  dimSigma: number;
  /** Fig. 6: integrand maps' grid, k values and sigma of p(a, b) (in coefficient units). */
  integrandGrid: number;
  integrandKs: number[];
  integrandSigma: number;
  integrandRange: number;
  /** Theory check: k values, sigma, Hutchinson probes, Monte-Carlo points. */
  theoryKs: number[];
  theorySigma: number;
  theoryProbes: number;
  theoryPoints: number;
  /** Sufficiency threshold on Δk (reported with the rate). */
  threshold: number;
  /** Seed of the data order, the noise and the first replicate's training. */
  seed: number;
  /**
   * How the Δk curves (rate, Fig. 5) draw their points: antithetic pairs w* ± σε (each run
   * reports the variance ratio it measured against plain points), or plain points.
   */
  estimator: Estimator;
  /**
   * Replicates: each model of Figs. 2-4, the rate and Fig. 5 is trained with this many seeds
   * (seed, seed + 1, ...), so comparisons see the noise of training, not only that of the rays.
   */
  seeds: number;
}

const base: Preset = {
  name: "default",
  data: "fashion-mnist",
  // The first 10,000 training images (the shipped subset, or the start of the full set when it
  // is installed), so the default run takes the same time everywhere.
  trainLimit: 10_000,
  cnnPool: 2,
  epochs: 4,
  cnnEpochs: 2,
  batchSize: 64,
  lr: 1e-3, // the paper trains 20 epochs at 3e-4; a few epochs on the subset need a larger step
  mlpHidden: 128,
  mlpLayers: 4,
  dropout: 0.05,
  cnnChannels: 8,
  cnnLayers: 4,
  cnnHeadChannels: 8,
  depths: [2, 4, 6],
  grid: 15,
  range: 1,
  landscapeSamples: 128,
  widthDirections: 6,
  widthRise: 1,
  widthRadius: 2,
  widthSteps: 16,
  points: 64,
  samples: 1001,
  sigma: 0.01,
  // Down to σ = 0.001, where only antithetic pairs resolve the landscape term; dim 2 gave way
  // to it so the sweep costs the same (7 curves).
  sigmas: [0.001, 0.003, 0.01, 0.03],
  dims: [1, 8, 32],
  dimSigma: 0.05,
  integrandGrid: 21,
  integrandKs: [1, 50, 100],
  integrandSigma: 0.25,
  integrandRange: 1,
  theoryKs: [10, 100],
  theorySigma: 0.002,
  theoryProbes: 32,
  theoryPoints: 256,
  threshold: 1e-7,
  seed: 0,
  // Antithetic pairs cut the variance 25-55x at σ = 0.001 and never lost measurably up to
  // σ = 0.1 (README, bench/antithetic_bench.ts); runs report the ratio they measured.
  estimator: "antithetic",
  seeds: 3,
};

/** The named presets. */
export const PRESETS: Record<string, Preset> = {
  default: base,
  paper: {
    ...base,
    name: "paper",
    trainLimit: undefined,
    cnnPool: 1,
    epochs: 20,
    cnnEpochs: 20,
    lr: 3e-4,
    cnnChannels: 64,
    cnnHeadChannels: 16,
    grid: 51,
    landscapeSamples: 1024,
    widthDirections: 16,
    widthSteps: 40,
    points: 256,
    samples: 10001,
    sigmas: [0.001, 0.003, 0.01, 0.03],
    dims: [2, 8, 64, 128],
    integrandGrid: 51,
    theoryProbes: 128,
    theoryPoints: 1024,
    seeds: 5,
  },
  tiny: {
    ...base,
    name: "tiny",
    data: "synthetic",
    cnnPool: 1,
    epochs: 2,
    cnnEpochs: 2,
    lr: 3e-3,
    mlpHidden: 16,
    mlpLayers: 2,
    cnnChannels: 4,
    cnnLayers: 2,
    cnnHeadChannels: 2,
    depths: [1, 2],
    grid: 5,
    landscapeSamples: 32,
    widthDirections: 2,
    widthSteps: 8,
    points: 16,
    samples: 121,
    sigmas: [0.001, 0.03],
    dims: [1, 4],
    integrandGrid: 5,
    integrandKs: [1, 10, 20],
    theoryKs: [5, 20],
    theoryProbes: 8,
    theoryPoints: 64,
    seeds: 2,
  },
};
