#!/usr/bin/env bash
# A sharded winnow job on Slurm: a job array runs the shards, a dependent job merges them once every
# array task has succeeded. Submit from the repository root:
#   bash pipelines/orchestrators/slurm-array.sh 4
# A task killed mid-run (preempted, time limit, node lost) resumes from its checkpoints when resubmitted
# (`sbatch --requeue` or scontrol requeue); exit code 75 means another run holds that shard's lock.
set -euo pipefail
N="${1:-4}"
PIPELINE="${PIPELINE:-pipelines/lake-sharded.yaml}"
OUT="${OUT:-out/lake}"
mkdir -p "$OUT/logs"

array_job=$(sbatch --parsable \
  --job-name=winnow-shards --array="0-$((N - 1))" --cpus-per-task=2 --mem=8G --time=12:00:00 --requeue \
  --output="$OUT/logs/shard-%a.jsonl" \
  --wrap="npx winnow run $PIPELINE --shard \${SLURM_ARRAY_TASK_ID}/$N --out $OUT/shard-\${SLURM_ARRAY_TASK_ID}")

shards=$(for i in $(seq 0 $((N - 1))); do printf '%s ' "$OUT/shard-$i"; done)
merge_job=$(sbatch --parsable \
  --job-name=winnow-merge --dependency="afterok:${array_job}" --cpus-per-task=2 --mem=16G --time=12:00:00 \
  --output="$OUT/logs/merge.jsonl" \
  --wrap="npx winnow merge $shards --out $OUT/merged --json")

echo "shards: job ${array_job} (array 0-$((N - 1))), merge: job ${merge_job} (after all shards succeed)"
