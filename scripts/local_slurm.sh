#!/usr/bin/env bash
# A single-node SLURM cluster on localhost (munged, slurmctld, slurmd), for the SLURM tests
# and for users who want to try `herolion submit --cluster slurm` without a cluster.
#
#   scripts/local_slurm.sh start    # install (Debian: slurm-wlm, munge) if needed, start
#   scripts/local_slurm.sh stop     # stop the three daemons started by `start`
#
# Needs root (apt-get, daemons). No cgroups: proctrack/linuxproc and task/none, so it works
# in containers. State lives under $HEROLION_SLURM_DIR (default /tmp/herolion-slurm).
set -euo pipefail

DIR=${HEROLION_SLURM_DIR:-/tmp/herolion-slurm}
CONF=/etc/slurm/slurm.conf

install() {
    if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
    fi
}

write_conf() {
    local host cpus mem
    host=$(hostname -s)
    # slurmctld and slurmd find each other by this name; containers may not resolve it
    getent hosts "$host" >/dev/null || echo "127.0.0.1 $host" >> /etc/hosts
    cpus=$(nproc)
    mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
    mkdir -p /etc/slurm "$DIR"/{ctld,d} /var/log/slurm
    cat > "$CONF" <<EOF
ClusterName=herolion
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/d
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobRequeue=1
KillWait=60
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
}

start() {
    install
    write_conf
    mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
    [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
    chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
    chmod 0400 /etc/munge/munge.key
    pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged --force
    pgrep -x slurmctld >/dev/null || slurmctld -c        # -c: a clean state each start
    pgrep -x slurmd >/dev/null || slurmd
    for _ in $(seq 60); do
        if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
            sinfo
            return 0
        fi
        sleep 1
    done
    echo "local_slurm.sh: the node did not become idle; logs in $DIR" >&2
    sinfo -N -l >&2 || true
    tail -n 20 "$DIR"/*.log >&2 || true
    return 1
}

stop() {
    for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid"; do
        [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    [ -s /run/munge/munged.pid ] && kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
