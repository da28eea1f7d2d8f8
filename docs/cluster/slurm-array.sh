#!/usr/bin/env bash
# A sharded InferSim sweep as a Slurm job array: one task per shard, each on one node's cores.
#   sbatch docs/cluster/slurm-array.sh scenarios/examples/my-sweep.json
# then: infersim merge results/shard-*.csv --csv results/sweep.csv
#SBATCH --job-name=infersim-sweep
#SBATCH --array=0-15
#SBATCH --cpus-per-task=8
#SBATCH --time=01:00:00
#SBATCH --output=results/slurm-%A_%a.log
set -euo pipefail
scenario=${1:?usage: sbatch slurm-array.sh SCENARIO.json}
shards=${SLURM_ARRAY_TASK_COUNT:-16}
mkdir -p results
# --resume: a requeued task keeps the points it already finished.
infersim sweep "$scenario" --shard "${SLURM_ARRAY_TASK_ID}/${shards}" \
    --csv "results/shard-${SLURM_ARRAY_TASK_ID}.csv" --resume
