#!/usr/bin/env bash
# A one-node Slurm cluster in a folder, for tests and trying `sweep --slurm` on one machine (as root,
# no systemd): Debian 12's slurmctld, slurmd and munge. `start DIR` writes DIR/slurm.conf, starts munged,
# slurmctld and slurmd in the background, waits until the node is idle and prints `SLURM_CONF=DIR/slurm.conf`;
# `stop DIR` stops the daemons it started, by the process ids it recorded in DIR.
set -euo pipefail
action="${1:?usage: local-cluster.sh start|stop DIR}"
dir="$(mkdir -p "${2:?usage: local-cluster.sh start|stop DIR}" && cd "$2" && pwd)"
host="$(hostname -s)"

stop() {
  for name in slurmd slurmctld munged; do
    if [ -f "$dir/$name.pid" ]; then
      pid="$(cat "$dir/$name.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
}

if [ "$action" = stop ]; then stop; exit 0; fi
[ "$action" = start ] || { echo "usage: local-cluster.sh start|stop DIR" >&2; exit 2; }
for tool in munged slurmctld slurmd sinfo; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed: apt-get install slurmctld slurmd slurm-client munge" >&2; exit 3; }
done

# munged runs as the munge user: it must be able to reach its folder (a temporary folder may be 0700).
chmod 755 "$dir"
mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
chown munge:munge "$dir/munge"
# Memory for the node: below the machine's, in MiB.
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cpus=$(nproc)
cat > "$dir/slurm.conf" <<CONF
ClusterName=shiftbench
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=$(( 20000 + RANDOM % 10000 ))
SlurmdPort=$(( 30000 + RANDOM % 10000 ))
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.daemon.pid
SlurmdPidFile=$dir/slurmd.daemon.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MailProg=/bin/true
SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000
DependencyParameters=kill_invalid_depend
MinJobAge=600
ReturnToService=2
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

# munged: its own socket, key and pid in DIR, run as the munge user.
key="$dir/munge/munge.key"
[ -f "$key" ] || { dd if=/dev/urandom of="$key" bs=1024 count=1 status=none; chown munge:munge "$key"; chmod 400 "$key"; }
socket="$dir/munge/munge.socket"
mkdir -p /run/munge && chown munge:munge /run/munge
runuser -u munge -- munged -F --key-file="$key" --socket="$socket" --pid-file="$dir/munge/munged.pid" \
  --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" >/dev/null 2>&1 &
echo $! > "$dir/munged.pid"
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
# Slurm's munge plugin finds the socket through AuthInfo.
sed -i "s|^AuthType=auth/munge|AuthType=auth/munge\nAuthInfo=socket=$socket|" "$dir/slurm.conf"

export SLURM_CONF="$dir/slurm.conf"
slurmctld -D -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
echo $! > "$dir/slurmctld.pid"
slurmd -D -f "$SLURM_CONF" >"$dir/log/slurmd.out" 2>&1 &
echo $! > "$dir/slurmd.pid"
deadline=$(( SECONDS + 90 )) # slurmctld starts in about a second; a loaded machine may need longer
while [ $SECONDS -lt $deadline ]; do
  state="$(timeout 10 sinfo -h -N -o %T 2>/dev/null | head -n 1 || true)"
  [ "$state" = idle ] && { echo "SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.2
done
{
  echo "error: the local Slurm node did not become idle in 90 s (state '${state:-none}'); logs in $dir/log:"
  tail -n 5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" "$dir/log/slurmctld.out" "$dir/log/slurmd.out" 2>&1
} >&2
stop
exit 1
