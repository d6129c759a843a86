# common.sh - sourced by run.sh, live.sh and soak.sh: the tools they build,
# the deterministic capture they measure, and the private network
# namespace with a veth pair the live runs replay onto. Expects: here (tests/bench), dir
# (BENCH_DIR), flows, sources, enroll and density_mb (BENCH_ENROLL
# enrollments per density_mb MB), a die function and prog (message prefix).

# build_tools NAME...: cc -O2 each tests/bench/NAME.c into $dir/bin unless
# the binary is newer than its source.
build_tools() {
	mkdir -p "$dir/bin" || die "cannot create $dir"
	pcap_flags=$(pkg-config --cflags --libs libpcap 2>/dev/null || echo -lpcap)
	for t in "$@"; do
		if [ ! -x "$dir/bin/$t" ] || [ "$here/$t.c" -nt "$dir/bin/$t" ]; then
			# shellcheck disable=SC2086
			${CC:-cc} -O2 -o "$dir/bin/$t" "$here/$t.c" $pcap_flags -lm || die "cannot build $t"
		fi
	done
}

# make_capture MB ENROLLMENTS: prints the path of that capture, writing it
# (and FILE.meta, gen's facts) unless a current one is there.
make_capture() {
	f="$dir/bench-${1}MB-e$2-f$flows.pcap"
	if [ ! -s "$f.meta" ] || [ "$dir/bin/gen" -nt "$f" ]; then
		echo "$prog: writing $f" >&2
		# shellcheck disable=SC2086
		"$dir/bin/gen" -o "$f" -m "$1" -e "$2" -f "$flows" $sources >"$f.meta.tmp" ||
			die "gen failed"
		mv "$f.meta.tmp" "$f.meta"
	fi
	echo "$f"
}

# meta FILE KEY: one of gen's facts about FILE
meta() { sed -n "s/^$2=//p" "$1.meta"; }

# scaled_enroll MB: enrollments at the benchmark's density, at least 1.
scaled_enroll() { awk -v m="$1" -v e="$enroll" -v d="$density_mb" 'BEGIN { n = int(e * m / d + 0.5); print n < 1 ? 1 : n }'; }

# veth_netns_up: the namespace $ns holding the veth pair $cap_if <-> $rep_if,
# both ends inside, no addresses, IPv6 off before the links exist (no router
# solicitations or MLD reports): nothing but the replay on the wire, nothing
# outside the namespace touched. Defines nsx CMD... (run inside it).
veth_netns_up() {
	ip netns add "$ns" || die "ip netns add $ns failed"
	nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	if ! ip -n "$ns" link add "$cap_if" type veth peer name "$rep_if" ||
	   ! ip -n "$ns" link set "$cap_if" up || ! ip -n "$ns" link set "$rep_if" up; then
		die "cannot create the veth pair in $ns"
	fi
}
nsx() { ip netns exec "$ns" "$@"; }

# veth_netns_down: every process left in $ns stopped, the namespace gone.
veth_netns_down() {
	ip netns pids "$ns" 2>/dev/null | while read -r p; do kill -TERM "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
}
