#!/usr/bin/env bash
# A throw-away one-node Slurm cluster on 127.0.0.1, to try contrib/slurm on one machine and to test it:
#
#   contrib/slurm/local-cluster.sh start DIR   install Debian's slurmctld, slurmd and slurm-client if missing,
#                                              write DIR/slurm.conf, start both daemons, wait for the node
#   contrib/slurm/local-cluster.sh stop DIR    cancel its jobs, stop the daemons by their own pid files
#
# Then use the clients with SLURM_CONF=DIR/slurm.conf. Everything (state, spool, logs, pids) is in DIR. Needs
# root (the daemons run as root, and so do the jobs). No munge: Debian 12's Slurm 22.05 still has auth/none,
# which trusts anyone on the machine, so stop it when done. Settings: SLURM_CPUS (the node's CPUs, default 4:
# more than the cores is fine for downloads), SLURM_CTLD_PORT (6817), SLURM_SLURMD_PORT (6818).
set -euo pipefail

die() { echo "local-cluster: $*" >&2; exit 1; }

install_slurm() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && return
  [ "$(id -u)" = 0 ] || die "installing Slurm needs root"
  # The packages' scripts would start the system daemons: forbid that while installing (policy-rc.d exit 101).
  local policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy=yes
  fi
  local apt=(apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client)
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${apt[@]}" >/dev/null; } || { [ -z "$policy" ] || rm -f /usr/sbin/policy-rc.d; die "cannot install Slurm"; }
  [ -z "$policy" ] || rm -f /usr/sbin/policy-rc.d
}

# Alive and not a zombie (orphans may be reaped late).
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && [ "$(awk '/^State:/{print $2}' "/proc/$1/status" 2>/dev/null)" != Z ]; }

stop_daemon() {  # NAME PIDFILE: TERM, up to 10 s, then KILL; only if the pid is still that daemon
  local pid
  pid=$(cat "$2" 2>/dev/null || true)
  if alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]; then
    kill -TERM "$pid"
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -KILL "$pid"
  fi
  rm -f "$2"
}

start() {
  local d
  d=$(mkdir -p "$1" && cd "$1" && pwd -P)
  [ "$(id -u)" = 0 ] || die "the daemons need root"
  install_slurm
  alive "$(cat "$d/slurmctld.pid" 2>/dev/null || true)" && die "already running in $d; stop it first"
  rm -rf "$d/state" "$d/spool" "$d/log" && mkdir -p "$d/state" "$d/spool" "$d/log"
  local memory
  memory=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)  # over what slurmd sees drains the node
  cat >"$d/slurm.conf" <<CONF
# Written by contrib/slurm/local-cluster.sh: a throw-away cluster, all of it in $d.
ClusterName=imgcls-local
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=${SLURM_CTLD_PORT:-6817}
SlurmdPort=${SLURM_SLURMD_PORT:-6818}
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
CommunicationParameters=NoInAddrAny
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
MinJobAge=600
KillWait=5
InactiveLimit=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=${SLURM_CPUS:-4} RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$d/slurm.conf
  slurmctld -f "$SLURM_CONF" -i >"$d/log/slurmctld.out" 2>&1 || die "slurmctld did not start: $(tail -5 "$d/log/slurmctld.log")"
  slurmd -f "$SLURM_CONF" -N localhost >"$d/log/slurmd.out" 2>&1 || { stop "$d"; die "slurmd did not start: $(tail -5 "$d/log/slurmd.log")"; }
  local state=""
  for _ in $(seq 100); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
    case "$state" in idle | mix | alloc) echo "local-cluster: up in $d (SLURM_CONF=$SLURM_CONF)"; return ;; esac
    sleep 0.3
  done
  tail -20 "$d/log/slurmctld.log" "$d/log/slurmd.log" >&2 || true
  stop "$d"
  die "the node did not come up (state '$state')"
}

stop() {
  local d
  d=$(cd "$1" && pwd -P)
  if alive "$(cat "$d/slurmctld.pid" 2>/dev/null || true)"; then
    # Cancelled first, so slurmd ends their steps: slurmstepd outlives slurmd otherwise.
    SLURM_CONF=$d/slurm.conf scancel --full --signal=KILL --state=RUNNING --partition=local 2>/dev/null || true
    SLURM_CONF=$d/slurm.conf scancel --partition=local 2>/dev/null || true
    for _ in $(seq 40); do
      [ -z "$(SLURM_CONF=$d/slurm.conf squeue -h -t R,CG 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  stop_daemon slurmd "$d/slurmd.pid"
  stop_daemon slurmctld "$d/slurmctld.pid"
}

case "${1:-}" in
  start) start "${2:?usage: $0 start DIR}" ;;
  stop) stop "${2:?usage: $0 stop DIR}" ;;
  *) echo "usage: $0 start DIR | stop DIR" >&2; exit 2 ;;
esac
