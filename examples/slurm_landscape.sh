#!/bin/bash
# A paper-scale landscape (51 x 51 grid, 2,601 points) of one trained checkpoint, split over a
# Slurm job array. Train once, then fan out:
#
#   deno task experiment train --model cnn --batch-norm --epochs 20 --out runs/cnn
#   sbatch examples/slurm_landscape.sh
#   # when every task has finished (or: sbatch --dependency=afterok:<jobid> ...):
#   deno task experiment merge --out runs/cnn-landscape
#
# Sizing: each task evaluates about 2601 / N grid points (and 385 / N width probes) on
# --eval-samples images. One point costs one forward pass over those images, so a task's time is
# roughly (2601 / N) x eval-samples x (forward time per image). Measure it first with a small
# grid on one node (e.g. --grid 5), then choose N so a task fits well inside your time limit;
# more tasks than GPUs only queue. Tasks write to RUN/shards/shard-i-of-N on a shared file
# system; a failed task is rerun alone (sbatch --array=<i>) and merge checks that all N exist.
#
#SBATCH --job-name=landscape
#SBATCH --array=0-15
#SBATCH --gpus=1
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=01:00:00
#SBATCH --output=logs/landscape-%A_%a.out

set -euo pipefail
cd "${SLURM_SUBMIT_DIR}"

# --shard auto reads SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (and _MIN, _STEP).
npx -y deno@2.9.6 task experiment landscape \
  --checkpoint runs/cnn/model.safetensors \
  --grid 51 --eval-samples 2048 --width-directions 8 \
  --out runs/cnn-landscape \
  --shard auto
