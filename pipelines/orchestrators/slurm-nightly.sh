#!/usr/bin/env bash
# One night of the incremental job on Slurm: `winnow run --state` reads only the files that are new or
# changed since the last completed night, resumes a night left unfinished, and moves $STATE/latest
# at the end. Submit from the repository root, or schedule it (cron on the login node, or scrontab):
#   15 2 * * * cd /path/to/winnow && bash pipelines/orchestrators/slurm-nightly.sh
# --dependency=singleton keeps two nights from overlapping (a night still running holds the next one
# back); winnow's lock (exit 75) also guards against runs started by hand. A preempted or requeued
# night resumes from its checkpoints. The summary of each night is $LOGS/nightly-<job>.json, its log
# $LOGS/nightly-<job>.log.
# Settings (environment): PIPELINE, STATE, LOGS, WINNOW (default `npx winnow`), CPUS_PER_TASK, MEM, TIME_LIMIT.
set -euo pipefail
PIPELINE="${PIPELINE:-pipelines/lake-nightly.yaml}"
STATE="${STATE:-out/lake-state}"
LOGS="${LOGS:-out/logs}"
WINNOW="${WINNOW:-npx winnow}"
mkdir -p "$LOGS"
job=$(sbatch --parsable --job-name=winnow-nightly --dependency=singleton --requeue \
  --cpus-per-task="${CPUS_PER_TASK:-2}" --mem="${MEM:-8G}" --time="${TIME_LIMIT:-12:00:00}" \
  --output="$LOGS/nightly-%j.json" --error="$LOGS/nightly-%j.log" \
  --wrap="$WINNOW run $PIPELINE --state $STATE --json")
echo "nightly: job $job (summary: $LOGS/nightly-$job.json)"
