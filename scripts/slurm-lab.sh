#!/usr/bin/env bash
# slurm-lab.sh: a one-node Slurm cluster in a directory, for testing deploy/slurm/ablate-workers.sbatch.
#
#   sudo scripts/slurm-lab.sh start DIR     # installs munge/slurm when missing, starts munged, slurmctld, slurmd
#   sudo scripts/slurm-lab.sh status DIR    # sinfo and squeue of the lab
#   sudo scripts/slurm-lab.sh stop DIR      # cancels every job, stops the daemons (DIR itself is left to its owner)
#
# Everything lives in DIR: slurm.conf, gres.conf, the munge key and socket, state, spool, logs and pid files. The
# daemons run as plain processes (no systemd), as root (SlurmUser=root), with proctrack/linuxproc and task/affinity:
# no cgroups. The node has this machine's CPUs and ABLATE_SLURM_LAB_GPUS (default 2) GRES `gpu` backed by stand-in
# device nodes DIR/dev/gpuN with /dev/null's numbers (Slurm hands them out and sets CUDA_VISIBLE_DEVICES).
# Clients use the lab by `export SLURM_CONF=DIR/slurm.conf` (`. DIR/env` does it).
# ABLATE_SLURM_LAB_PORT sets slurmctld's port (slurmd takes the next; default: from the pid),
# ABLATE_SLURM_LAB_KILLWAIT the seconds between scancel's SIGTERM and SIGKILL (default 30, Slurm's own default).
#
# Exit status: 0 on success; 2 when the lab cannot run here (not root, packages not installable), with one line
# saying why; 1 when it was set up but did not come up (the daemons' log tails follow).
set -euo pipefail

usage() {
    echo "usage: $0 start|status|stop DIR" >&2
    exit 64
}
(($# == 2)) || usage
action=$1
dir=$2
case "$action" in start | status | stop) ;; *) usage ;; esac

cannot() {
    echo "slurm-lab: cannot run here: $*" >&2
    exit 2
}

conf="$dir/slurm.conf"

# Sends SIGTERM to the process in pid file $1, then SIGKILL after a few seconds if it is still there.
stop_pidfile() {
    local file=$1 pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file" 2>/dev/null || true)
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

if [ "$action" = stop ]; then
    if [ -f "$conf" ]; then
        SLURM_CONF=$conf timeout 10 scancel --full --quiet --user=root 2>/dev/null || true
        # Let slurmd deliver the signals before it goes.
        for _ in $(seq 50); do
            [ -z "$(SLURM_CONF=$conf timeout 5 squeue --noheader 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    stop_pidfile "$dir/slurmd.pid"
    stop_pidfile "$dir/slurmctld.pid"
    stop_pidfile "$dir/munged.pid"
    # Job steps whose slurmstepd outlived slurmd (it should not happen, but leave nothing behind).
    if [ -d "$dir/spool" ]; then
        for pid in $(pgrep -f "slurmstepd.*" 2>/dev/null || true); do
            if grep -qs "$dir" "/proc/$pid/cmdline" "/proc/$pid/environ"; then kill -KILL "$pid" 2>/dev/null || true; fi
        done
    fi
    echo "slurm-lab: stopped ($dir)"
    exit 0
fi

if [ "$action" = status ]; then
    [ -f "$conf" ] || {
        echo "slurm-lab: no lab in $dir" >&2
        exit 1
    }
    SLURM_CONF=$conf sinfo
    SLURM_CONF=$conf squeue
    exit 0
fi

# --- start ----------------------------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || cannot "the lab needs root (slurmd runs jobs as their users); run it with sudo"
missing=()
command -v munged >/dev/null 2>&1 || missing+=(munge)
command -v slurmctld >/dev/null 2>&1 || missing+=(slurmctld)
command -v slurmd >/dev/null 2>&1 || missing+=(slurmd)
command -v sbatch >/dev/null 2>&1 || missing+=(slurm-client)
if ((${#missing[@]})); then
    command -v apt-get >/dev/null 2>&1 || cannot "${missing[*]} missing and no apt-get to install them"
    echo "slurm-lab: installing ${missing[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        munge slurmctld slurmd slurm-client; } >/dev/null 2>&1 \
        || cannot "could not install ${missing[*]} with apt-get"
fi

# Settings are checked before anything is written.
gpus=${ABLATE_SLURM_LAB_GPUS:-2}
[[ "$gpus" =~ ^[0-9]+$ ]] || cannot "ABLATE_SLURM_LAB_GPUS must be a number of GPUs, not '$gpus'"
# Ports: ABLATE_SLURM_LAB_PORT (slurmctld; slurmd takes the next), else a pair derived from this shell's pid.
port=${ABLATE_SLURM_LAB_PORT:-$((20000 + ($$ % 20000) * 2))}
[[ "$port" =~ ^[0-9]+$ ]] || cannot "ABLATE_SLURM_LAB_PORT must be a port number, not '$port'"
killwait=${ABLATE_SLURM_LAB_KILLWAIT:-30}
[[ "$killwait" =~ ^[0-9]+$ ]] || cannot "ABLATE_SLURM_LAB_KILLWAIT must be a number of seconds, not '$killwait'"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf="$dir/slurm.conf"
[ ! -f "$dir/slurmctld.pid" ] || cannot "a lab already runs in $dir (stop it first)"
mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge" "$dir/dev"
chmod 0755 "$dir"
chmod 0700 "$dir/munge"

# The node: this machine's CPUs and memory; stand-in GPU device files.
host=$(hostname -s)
cpus=$(nproc --all)
memory=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 9 / 10))
# Slurm accepts only character or block devices in gres.conf: each stand-in is a node with /dev/null's numbers.
for ((index = 0; index < gpus; index++)); do
    rm -f "$dir/dev/gpu$index"
    mknod -m 0666 "$dir/dev/gpu$index" c 1 3 || cannot "mknod cannot create stand-in GPU devices in $dir/dev"
done

gres_line=""
gres_types=""
if ((gpus > 0)); then
    gres_line="Gres=gpu:$gpus"
    gres_types="GresTypes=gpu"
    echo "Name=gpu File=$dir/dev/gpu[0-$((gpus - 1))]" >"$dir/gres.conf"
else
    : >"$dir/gres.conf"
fi

cat >"$conf" <<EOF
# A one-node lab written by scripts/slurm-lab.sh; everything under $dir.
ClusterName=ablatelab
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
# Seconds between the SIGTERM of scancel (or the time limit) and the SIGKILL.
KillWait=$killwait
MinJobAge=2
InactiveLimit=0
$gres_types
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory $gres_line State=UNKNOWN
PartitionName=lab Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
echo "export SLURM_CONF=$conf" >"$dir/env"

# The daemons keep no descriptor of the caller's (a caller reading this script's output to its end would wait):
# besides 0-2, which each daemon gets redirected, close whatever else the caller let this script inherit (not 255,
# where bash reads this script from).
for fd in $(ls /proc/$$/fd); do
    if ((fd > 2 && fd < 255)); then eval "exec $fd>&-" 2>/dev/null || true; fi
done

# munge: a fresh key, its own socket.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$dir/munge/munge.key"
munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
    </dev/null >>"$dir/log/munged.log" 2>&1 || cannot "munged did not start (see $dir/log/munged.log)"

fail() {
    echo "slurm-lab: $*" >&2
    for log in "$dir"/log/*.log; do
        echo "--- $log" >&2
        tail -n 20 "$log" >&2
    done
    "$0" stop "$dir" >/dev/null 2>&1 || true
    exit 1
}

slurmctld -f "$conf" -i </dev/null >>"$dir/log/slurmctld.log" 2>&1 || fail "slurmctld did not start"
slurmd -f "$conf" -N "$host" </dev/null >>"$dir/log/slurmd.log" 2>&1 || fail "slurmd did not start"

export SLURM_CONF=$conf
for _ in $(seq 150); do
    state=$(sinfo --noheader --nodes="$host" --format=%T 2>/dev/null || true)
    if [ "$state" = idle ]; then
        echo "slurm-lab: up in $dir: node $host, $cpus CPU(s), $gpus stand-in GPU(s), slurmctld port $port"
        exit 0
    fi
    sleep 0.2
done
fail "the node did not become idle within 30 s (state: ${state:-none})"
