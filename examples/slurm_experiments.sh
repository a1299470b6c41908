#!/bin/bash
# Every experiment of the paper at paper scale, across a Slurm job array: the models are trained
# once by a first job, then each array task runs every 3rd experiment on them in the shared run
# folder, and merge writes the report.
#
#   train=$(sbatch --parsable --gpus=1 --time=12:00:00 --wrap \
#     "npx -y deno@2.9.6 task experiment all --preset paper --train-only --out runs/paper")
#   shards=$(sbatch --parsable --dependency=afterok:$train examples/slurm_experiments.sh)
#   sbatch --dependency=afterok:$shards --wrap "npx -y deno@2.9.6 task experiment merge --out runs/paper"
#
# Sizing: the six experiments (rate, fig3, fig5, fig6, fig2, fig4) differ a lot in cost; the
# 51 x 51 CNN landscapes of fig2 and fig4 dominate. More than 6 tasks leaves some idle. For finer
# splits, run a landscape or Δk curve of one checkpoint as its own sharded job
# (examples/slurm_landscape.sh). A task that fails is rerun alone (sbatch --array=<i>);
# finished steps are skipped when it restarts.
#
#SBATCH --job-name=experiments
#SBATCH --array=0-2
#SBATCH --gpus=1
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=12:00:00
#SBATCH --output=logs/experiments-%A_%a.out

set -euo pipefail
cd "${SLURM_SUBMIT_DIR}"
npx -y deno@2.9.6 task experiment all --preset paper --out runs/paper --shard auto
