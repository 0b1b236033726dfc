#!/usr/bin/env bash
# slurm-cluster.sh — a real four-node SLURM cluster on one Debian 12 machine,
# for benchrun's integration tests (package slurm, BENCHRUN_SLURM=1).
#
#   .ci/slurm-cluster.sh up      install (if missing) and start; idempotent
#   .ci/slurm-cluster.sh status  print daemons and sinfo; exit 1 if not up
#   .ci/slurm-cluster.sh down    stop everything and remove the namespaces
#
# Partitions: "bench" (node1-node3, the default) for the single-partition
# tests; "gpu" (node1 and node4, 4 GPUs each declared as GRES) and "cpu"
# (node2, node3) for heterogeneous jobs. The GPUs are stand-in device files
# $GPU_DIR/nvidia0..3 (links to /dev/null: slurmd rejects regular files)
# named in gres.conf (File=): SLURM allocates them to
# steps by index and sets CUDA_VISIBLE_DEVICES/SLURM_STEP_GPUS as on a real
# GPU node; nothing can compute on them.
#
# Layout: a bridge brbench (10.77.0.1/24) in the root namespace, where
# slurmctld runs; network namespaces node1..node4 (10.77.0.11-14) joined to it
# by veth pairs; one slurmd per namespace, started with nsenter + unshare --uts
# (not `ip netns exec`, which remounts /sys and breaks slurmd's cgroup
# detection). Names go to /etc/hosts so node1:PORT reaches a service from any
# node and from the root namespace. munged runs once (as user munge); its unix
# socket is shared by all namespaces. No accounting: sacct is unavailable and
# finished jobs are visible through `scontrol show job` for MinJobAge seconds.
#
# Root only. Changes: /etc/slurm/slurm.conf, /etc/hosts (a marked block),
# the munge key if absent, interfaces and namespaces named below.
set -euo pipefail

NODES=(node1 node2 node3 node4)
BRIDGE=brbench
NET=10.77.0
CTL_ADDR=$NET.1
CONF=/etc/slurm/slurm.conf
MARK="# benchrun-slurm-cluster"
PARTITION=bench
GRES_CONF=/etc/slurm/gres.conf
GPU_NODES=node[1,4]
GPU_COUNT=4
GPU_DIR=/run/benchrun-gpus

die() { echo "slurm-cluster: $*" >&2; exit 1; }
log() { echo "slurm-cluster: $*" >&2; }

node_addr() { # node_addr nodeN -> 10.77.0.(10+N)
	echo "$NET.$((10 + ${1#node}))"
}

install_packages() {
	local need=()
	command -v slurmctld >/dev/null || need+=(slurm-wlm)
	command -v munged >/dev/null || need+=(munge)
	command -v nsenter >/dev/null || need+=(util-linux)
	command -v ip >/dev/null || need+=(iproute2)
	[ ${#need[@]} -eq 0 ] && return 0
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${need[@]}"
}

start_munge() {
	if [ ! -s /etc/munge/munge.key ]; then
		log "creating munge key"
		mungekey --create --keyfile=/etc/munge/munge.key
	fi
	chown munge:munge /etc/munge/munge.key
	chmod 0400 /etc/munge/munge.key
	install -d -o munge -g munge -m 0755 /run/munge
	install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
	if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
		log "starting munged"
		# munged refuses to start over a stale socket from a killed daemon.
		rm -f /run/munge/munge.socket.2 /run/munge/munged.pid
		(no_inherit runuser -u munge -- /usr/sbin/munged)
		for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0; sleep 0.1; done
		die "munged did not come up"
	fi
}

setup_network() {
	if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
		ip link add "$BRIDGE" type bridge
	fi
	ip addr replace "$CTL_ADDR/24" dev "$BRIDGE"
	ip link set "$BRIDGE" up
	ip link set lo up
	local n addr
	for n in "${NODES[@]}"; do
		addr=$(node_addr "$n")
		# A name left in /run/netns by a machine image is a plain file, not a
		# namespace: replace it.
		if [ -e "/run/netns/$n" ] && ! ip -n "$n" link show lo >/dev/null 2>&1; then
			log "replacing stale namespace $n"
			ip netns del "$n" 2>/dev/null || rm -f "/run/netns/$n"
		fi
		[ -e "/run/netns/$n" ] || ip netns add "$n"
		if ! ip link show "veth-$n" >/dev/null 2>&1; then
			ip link add "veth-$n" type veth peer name eth0 netns "$n"
		fi
		ip link set "veth-$n" master "$BRIDGE"
		ip link set "veth-$n" up
		ip -n "$n" link set lo up
		ip -n "$n" addr replace "$addr/24" dev eth0
		ip -n "$n" link set eth0 up
		ip -n "$n" route replace default via "$CTL_ADDR"
	done
	# /etc/hosts: rewrite our marked block, leave the rest alone.
	local tmp
	tmp=$(mktemp)
	grep -v -- "$MARK" /etc/hosts | sed -e '$a\' >"$tmp" || true
	echo "$CTL_ADDR $(hostname -s)-ctl $MARK" >>"$tmp"
	for n in "${NODES[@]}"; do
		echo "$(node_addr "$n") $n $MARK" >>"$tmp"
	done
	cat "$tmp" >/etc/hosts # keep the inode: /etc/hosts may be a bind mount
	rm -f "$tmp"
}

write_conf() {
	local cpus mem
	cpus=$(nproc)
	mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 4))
	install -d /etc/slurm /var/spool/slurmctld /var/log/slurm
	local tmp
	tmp=$(mktemp)
	cat >"$tmp" <<EOF
# Written by .ci/slurm-cluster.sh; rewritten by every "up".
ClusterName=benchrun
SlurmctldHost=$(hostname -s)($CTL_ADDR)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Heterogeneous jobs are started only by the backfill scheduler: at its
# default 30 s interval each hetjob test waited up to 30 s to start.
SchedulerParameters=bf_interval=1
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd/%n
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd-%n.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd-%n.log
SlurmdTimeout=10
SlurmctldTimeout=30
ReturnToService=2
MinJobAge=300
KillWait=5
InactiveLimit=0
Waittime=0
MessageTimeout=10
GresTypes=gpu
NodeName=$GPU_NODES NodeHostname=$GPU_NODES NodeAddr=$NET.[11,14] CPUs=$cpus RealMemory=$mem Gres=gpu:$GPU_COUNT State=UNKNOWN
NodeName=node[2-3] NodeHostname=node[2-3] NodeAddr=$NET.[12-13] CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=node[1-3] Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
PartitionName=gpu Nodes=$GPU_NODES MaxTime=INFINITE State=UP OverSubscribe=NO
PartitionName=cpu Nodes=node[2-3] MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
	install -d "$GPU_DIR"
	local i
	# slurmd wants character devices: links to /dev/null stand in for them.
	for i in $(seq 0 $((GPU_COUNT - 1))); do ln -sfn /dev/null "$GPU_DIR/nvidia$i"; done
	echo "NodeName=$GPU_NODES Name=gpu File=$GPU_DIR/nvidia[0-$((GPU_COUNT - 1))]" >"$tmp.gres"
	if ! cmp -s "$tmp.gres" "$GRES_CONF"; then
		cp "$tmp.gres" "$GRES_CONF"
		chmod 0644 "$GRES_CONF"
		CONF_CHANGED=1
	fi
	rm -f "$tmp.gres"
	if ! cmp -s "$tmp" "$CONF"; then
		cp "$tmp" "$CONF"
		chmod 0644 "$CONF"
		CONF_CHANGED=1
	fi
	rm -f "$tmp"
}

# no_inherit runs a daemon with only stdin, stdout and stderr open: callers
# hold the cluster's flock (flock /tmp/benchrun-cluster.lock ... up), and a
# daemon that inherited that descriptor would hold the lock for its life.
no_inherit() {
	local fd
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
	done
	exec "$@"
}

# pid_alive PIDFILE: the process the file names is alive and is the daemon
# the file is for. A pid file can outlive its daemon (a node-kill test, a
# machine image taken with the cluster up), and its number may by then be
# another process's: trusting it skipped starting a slurmd (the node stayed
# down) and would have killed a stranger on "down".
pid_alive() {
	local pid want cmd
	pid=$(cat "$1" 2>/dev/null) || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	case "$1" in
	*/slurmctld.pid) want="/usr/sbin/slurmctld " ;;
	*/slurmd-*.pid) want="/usr/sbin/slurmd -N $(basename "$1" .pid | sed 's/^slurmd-//') " ;;
	*/munged.pid) want="/usr/sbin/munged" ;;
	*) return 1 ;;
	esac
	cmd=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) || return 1
	[[ "$cmd" == "$want"* ]]
}

start_daemons() {
	if [ "${CONF_CHANGED:-0}" = 1 ]; then stop_daemons; fi
	if ! pid_alive /run/slurmctld.pid; then
		log "starting slurmctld"
		(no_inherit /usr/sbin/slurmctld -i)
	fi
	local n
	for n in "${NODES[@]}"; do
		if ! pid_alive "/run/slurmd-$n.pid"; then
			log "starting slurmd $n"
			install -d "/var/spool/slurmd/$n"
			(no_inherit nsenter --net="/run/netns/$n" unshare --uts \
				sh -c "hostname $n; exec /usr/sbin/slurmd -N $n")
		fi
	done
}

wait_idle() {
	local want=${#NODES[@]} idle
	for _ in $(seq 120); do
		idle=$(sinfo -h -N -o '%N %t' 2>/dev/null | sort -u | awk '$2 ~ /^(idle|mix|alloc)$/' | wc -l)
		if [ "$idle" -ge "$want" ]; then return 0; fi
		# A node left "down" by an earlier run comes back with ReturnToService=2
		# once it registers; nudge nodes that stay down anyway.
		sinfo -h -N -o '%N %t' 2>/dev/null | sort -u | awk '$2 ~ /^down$|^drain/ {print $1}' |
			while read -r n; do scontrol update nodename="$n" state=resume 2>/dev/null || true; done
		sleep 0.5
	done
	sinfo -N >&2 || true
	die "nodes did not become idle in 60 s"
}

stop_daemons() {
	local f
	for f in /run/slurmd-node*.pid /run/slurmctld.pid; do
		[ -e "$f" ] || continue
		if pid_alive "$f"; then kill "$(cat "$f")" 2>/dev/null || true; fi
	done
	for _ in $(seq 50); do
		local alive=0
		for f in /run/slurmd-node*.pid /run/slurmctld.pid; do
			pid_alive "$f" && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	rm -f /run/slurmd-node*.pid /run/slurmctld.pid
}

cmd_up() {
	local t0=$SECONDS
	install_packages
	start_munge
	setup_network
	write_conf
	start_daemons
	wait_idle
	log "up in $((SECONDS - t0)) s: $(sinfo -h -o '%P %D %t %N' | tr '\n' ' ')"
}

cmd_down() {
	stop_daemons
	# Job steps and tasks left in the namespaces die with them.
	local n pids
	for n in "${NODES[@]}"; do
		if [ -e "/run/netns/$n" ]; then
			pids=$(ip netns pids "$n" 2>/dev/null || true)
			[ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
			ip link del "veth-$n" 2>/dev/null || true
			ip netns del "$n"
		fi
	done
	ip link del "$BRIDGE" 2>/dev/null || true
	if grep -q -- "$MARK" /etc/hosts; then
		local tmp
		tmp=$(mktemp)
		grep -v -- "$MARK" /etc/hosts >"$tmp" || true
		cat "$tmp" >/etc/hosts
		rm -f "$tmp"
	fi
	if pid_alive /run/munge/munged.pid; then kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true; fi
	log "down"
}

cmd_status() {
	local ok=0 n
	pid_alive /run/slurmctld.pid && echo "slurmctld: running" || { echo "slurmctld: stopped"; ok=1; }
	for n in "${NODES[@]}"; do
		pid_alive "/run/slurmd-$n.pid" && echo "slurmd $n: running" || { echo "slurmd $n: stopped"; ok=1; }
	done
	if [ $ok = 0 ]; then sinfo -N || ok=1; fi
	return $ok
}

[ "$(id -u)" = 0 ] || die "must run as root"
case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
*) die "usage: $0 up|down|status" ;;
esac
