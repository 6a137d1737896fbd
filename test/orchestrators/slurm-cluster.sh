#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the Slurm tests (test/orchestrators/):
#   bash test/orchestrators/slurm-cluster.sh up      # prints: export SLURM_CONF=...
#   bash test/orchestrators/slurm-cluster.sh down    # stops exactly the daemons `up` started
# Needs root and Debian's apt (it installs slurm-wlm and munge when missing). State, logs and the
# slurm.conf live in $WINNOW_SLURM_DIR (default /tmp/winnow-slurm), removed by `down`; nothing under
# /etc is written.
set -euo pipefail
DIR="${WINNOW_SLURM_DIR:-/tmp/winnow-slurm}"
CONF="$DIR/slurm.conf"

die() { echo "cluster.sh: $*" >&2; exit 1; }

install_packages() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && return 0
  command -v apt-get >/dev/null || die "slurm-wlm and munge are not installed and there is no apt-get to install them"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

# A munged already answering (the machine's own) is used as it is; otherwise start one and record its pid.
start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
  [ -s /etc/munge/munge.key ] || { mungekey --create >/dev/null 2>&1 || /usr/sbin/create-munge-key -f >/dev/null; chown munge:munge /etc/munge/munge.key; }
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  runuser -u munge -- munged --force
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  cat /run/munge/munged.pid > "$DIR/munged.started"
}

write_conf() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  # Leave the system 512 MB; Slurm refuses a node that reports less memory than RealMemory.
  mem=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 512 ))
  mkdir -p "$DIR/ctld" "$DIR/spool"
  cat > "$CONF" <<EOF
ClusterName=winnow-ci
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
JobRequeue=1
MinJobAge=3600
SchedulerParameters=sched_interval=1
MessageTimeout=30
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=ci Nodes=${host} Default=YES MaxTime=INFINITE State=UP
EOF
}

up() {
  [ "$(id -u)" -eq 0 ] || die "needs root (it installs packages and starts slurmctld, slurmd and munged)"
  [ -f "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null && die "a cluster from $DIR is already up; run: bash $0 down"
  install_packages
  rm -rf "$DIR"; mkdir -p "$DIR"
  start_munge
  write_conf
  slurmctld -f "$CONF" -i
  slurmd -f "$CONF"
  export SLURM_CONF="$CONF"
  for _ in $(seq 120); do
    state=$(sinfo -h -o %T 2>/dev/null || true)
    [ "$state" = "idle" ] && { echo "export SLURM_CONF=$CONF"; return 0; }
    sleep 0.5
  done
  echo "slurmctld log:" >&2; tail -20 "$DIR/slurmctld.log" >&2 || true
  echo "slurmd log:" >&2; tail -20 "$DIR/slurmd.log" >&2 || true
  down; die "the node did not become idle within 60 s (sinfo: ${state:-no answer})"
}

stop_pid_file() {
  local f=$1 pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

down() {
  stop_pid_file "$DIR/slurmd.pid"
  stop_pid_file "$DIR/slurmctld.pid"
  stop_pid_file "$DIR/munged.started"
  rm -rf "$DIR"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: bash $0 up|down" ;;
esac
