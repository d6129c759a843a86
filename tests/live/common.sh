# common.sh - sourced by the live tests (live-capture.sh, live-write.sh):
# skipping, the network namespace with its veth pair (vcap <-> vrep), and
# stopping scepdump. Expects ns, tmp and pid set, and a cleanup function
# that kills $pid, deletes $ns and removes $tmp, installed before
# veth_up runs.

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

nsx() { ip netns exec "$ns" "$@"; }

# veth_up: $ns with vcap <-> vrep inside, up, no addresses, IPv6 off before
# the links exist: nothing but the replay on the wire. Skips without them.
veth_up() {
	ip netns add "$ns" 2>/dev/null || skip_all "cannot create a network namespace"
	nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	if ! ip -n "$ns" link add vcap type veth peer name vrep 2>/dev/null ||
	   ! ip -n "$ns" link set vcap up || ! ip -n "$ns" link set vrep up; then
		skip_all "cannot create a veth pair in a network namespace"
	fi
}

# wait_for ERE TENTHS FILE: waits up to TENTHS tenths of a second for
# grep -E ERE in FILE
wait_for() {
	i=0
	while ! grep -qE -e "$1" "$3" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -le "$2" ] || return 1
		sleep 0.1
	done
	return 0
}

# stop: SIGINT to scepdump ($pid), its exit status returned
stop() {
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	pid=
	return $rc
}
