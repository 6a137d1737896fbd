#!/usr/bin/env bash
# A sharded winnow job on Slurm: a job array runs the shards, then a gate job merges them once every
# shard has succeeded. Submit from the repository root (or wherever `npx winnow` works):
#   bash pipelines/orchestrators/slurm-array.sh 4
#
# What happens when a shard task does not succeed:
# - preempted or requeued (`scontrol requeue`, `sbatch --requeue` policy): it resumes from its
#   checkpoints and the gate waits for it;
# - killed, out of memory, time limit, node lost: the gate (which runs after every task has ended,
#   `afterany`) resubmits the shards without a completed manifest, up to RETRIES rounds, and runs the
#   merge once they have all succeeded; a resubmitted shard resumes from its checkpoints;
# - exit 75 (another run holds the shard's lock): resubmitted the same way, RETRY_DELAY seconds later;
# - exit 2 or 3 (a config or input error, which a retry will not fix): the gate fails at once, naming
#   the shard and its log. Fix the cause and run `bash slurm-array.sh --gate 1 N` to resume.
# The merge never waits forever on a dependency that cannot be met; every shard's Slurm output is in
# $OUT/logs/shard-<i>.jsonl, the gate's and the merge's in $OUT/logs/merge.jsonl.
#
# Settings (environment): PIPELINE, OUT, WINNOW (the command, default `npx winnow`), CPUS_PER_TASK,
# SHARD_MEM, MERGE_MEM, TIME_LIMIT, RETRIES (default 3), RETRY_DELAY (seconds, default 300).
set -euo pipefail
PIPELINE="${PIPELINE:-pipelines/lake-sharded.yaml}"
OUT="${OUT:-out/lake}"
WINNOW="${WINNOW:-npx winnow}"
CPUS_PER_TASK="${CPUS_PER_TASK:-2}"
SHARD_MEM="${SHARD_MEM:-8G}"
MERGE_MEM="${MERGE_MEM:-16G}"
TIME_LIMIT="${TIME_LIMIT:-12:00:00}"
RETRIES="${RETRIES:-3}"
RETRY_DELAY="${RETRY_DELAY:-300}"
SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
export PIPELINE OUT WINNOW CPUS_PER_TASK SHARD_MEM MERGE_MEM TIME_LIMIT RETRIES RETRY_DELAY

# Submits shard tasks (a comma list of indices) of an N-shard job; prints the array job's id. Each
# task records its exit code, so the gate can tell a config error from a kill.
submit_shards() {
  local indices=$1 n=$2 begin=${3:-now}
  sbatch --parsable --job-name=winnow-shards --array="$indices" --begin="$begin" \
    --cpus-per-task="$CPUS_PER_TASK" --mem="$SHARD_MEM" --time="$TIME_LIMIT" --requeue --open-mode=append \
    --output="$OUT/logs/shard-%a.jsonl" \
    --wrap="i=\$SLURM_ARRAY_TASK_ID; rm -f $OUT/status/shard-\$i.exit; $WINNOW run $PIPELINE --shard \$i/$n --out $OUT/shard-\$i; rc=\$?; echo \$rc > $OUT/status/shard-\$i.exit; exit \$rc"
}

submit_gate() {
  local attempt=$1 n=$2 after=$3
  sbatch --parsable --job-name=winnow-merge --dependency="afterany:$after" \
    --cpus-per-task="$CPUS_PER_TASK" --mem="$MERGE_MEM" --time="$TIME_LIMIT" --open-mode=append \
    --output="$OUT/logs/merge.jsonl" \
    --wrap="bash $SELF --gate $attempt $n $after"
}

# A shard succeeded when its manifest is in place and no work folder is left (a resumed run that is
# in progress keeps the manifest of an earlier completion next to its work folder).
shard_done() { [ -f "$OUT/shard-$1/manifest.json" ] && [ ! -d "$OUT/shard-$1/.winnow-work" ]; }

gate() {
  local attempt=$1 n=$2 after=$3 missing=() permanent=() locked=0 i code
  # A task requeued after the gate was released (preemption, scontrol requeue) is still on its way.
  if [ -n "$after" ] && [ -n "$(squeue -h -j "$after" -o %i 2>/dev/null)" ]; then
    echo "winnow gate: tasks of job $after are queued again; waiting for them"
    submit_gate "$attempt" "$n" "$after" >/dev/null; return 0
  fi
  for i in $(seq 0 $((n - 1))); do
    shard_done "$i" && continue
    missing+=("$i")
    code=$(cat "$OUT/status/shard-$i.exit" 2>/dev/null || echo killed)
    case "$code" in 2|3) permanent+=("$i (exit $code)") ;; 75) locked=1 ;; esac
  done
  if [ ${#missing[@]} -eq 0 ]; then
    shards=(); for i in $(seq 0 $((n - 1))); do shards+=("$OUT/shard-$i"); done
    exec $WINNOW merge "${shards[@]}" --out "$OUT/merged" --json
  fi
  if [ ${#permanent[@]} -gt 0 ]; then
    echo "winnow gate: shard ${permanent[*]} failed with a config or input error; see $OUT/logs/shard-<i>.jsonl, fix it, then: bash $SELF --gate 1 $n" >&2
    return 1
  fi
  if [ "$attempt" -ge "$RETRIES" ]; then
    echo "winnow gate: shards ${missing[*]} still incomplete after $attempt rounds; see $OUT/logs/shard-<i>.jsonl, then: bash $SELF --gate 1 $n" >&2
    return 1
  fi
  local list begin=now job
  list=$(IFS=,; echo "${missing[*]}")
  [ "$locked" -eq 1 ] && begin="now+${RETRY_DELAY}"
  job=$(submit_shards "$list" "$n" "$begin")
  submit_gate $((attempt + 1)) "$n" "$job" >/dev/null
  echo "winnow gate: round $attempt: resubmitted shards $list as job $job (begin $begin)"
}

if [ "${1:-}" = "--gate" ]; then
  gate "${2:?attempt}" "${3:?number of shards}" "${4:-}"
  exit $?
fi

N="${1:-4}"
mkdir -p "$OUT/logs" "$OUT/status"
array_job=$(submit_shards "0-$((N - 1))" "$N")
gate_job=$(submit_gate 1 "$N" "$array_job")
echo "shards: job ${array_job} (array 0-$((N - 1))), merge: job ${gate_job} (once every shard has succeeded)"
