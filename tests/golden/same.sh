#!/bin/sh
# Equivalence tests: each line of SAMELIST names two scepdump runs that must
# tell the same story: a capture and its reordered, duplicated, re-encapsulated
# or split twin. Text and JSON outputs are compared after removing what may
# legitimately differ: pcap frame numbers and the packet-count summary line.
# Prints TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
list="$SRCDIR/tests/golden/SAMELIST"
TZ=UTC LC_ALL=C
export TZ LC_ALL
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Frame numbers and the summary are the only things allowed to differ,
# and where a device event was in its log: an .evtx names it by record
# number, its XML export by line ("line" in JSON, not in the text). Frames
# of several -r files are FILE:N, in a column as wide as a block's longest
# label: the text loses its frames column (after the relative time), then
# lines wrapped at 120 columns are joined and runs of spaces made one, as
# the column's width moves where they wrap.
normalize_text() {
	sed -E 's/^(   [-+].{9} )[^ ]+ +/\1# /' |
		awk 'match($0, /^ +[^ ]/) && RLENGTH > 40 { sub(/^ +/, " "); last = last $0; next } NR > 1 { print last } { last = $0 } END { if (NR) print last }' |
		sed -E 's/ +/ /g; /^[0-9]+ transactions?[:;|]/d; /^[0-9]+ packets?, [0-9]+ flows?, /d'
}
normalize_json() {
	grep -v '"type":"summary"' | sed -E 's/"(first|last)_frame":[0-9]+/"\1_frame":0/g; s/,"(first|last)_file":"[^"]*","(first|last)_file_frame":[0-9]+//g; s/("source":"[a-z]+","kind":"[A-Z_]+",[^{}]*"line":)[0-9]+/\10/g'
}

# Twins named *-evtx-* read an .evtx: skipped by a scepdump built without
# libevtx (it refuses the file, see tests/golden/run.sh).
evtx_skip=""
if (cd "$SRCDIR" && "$SCEPDUMP" --device-log tests/devlogs/windows-strongswan-enroll.evtx) 2>&1 </dev/null |
	grep -q 'built without libevtx'; then
	evtx_skip="scepdump built without libevtx"
fi

# run OUTFILE FLAG "OPTIONS" (function variables are global in sh: r_*)
run() {
	r_out=$1; r_flag=$2
	eval "set -- $3"
	(cd "$SRCDIR" && "$SCEPDUMP" $r_flag "$@") >"$r_out" 2>&1
	echo "exit $?" >>"$r_out"
}

tests=$(grep -v '^[[:space:]]*#' "$list" | grep -c '[^[:space:]]')
echo "1..$((tests * 2))"
n=0
grep -v '^[[:space:]]*#' "$list" | grep '[^[:space:]]' | while read -r name rest; do
	a=${rest%% | *}
	b=${rest#* | }
	for fmt in text json; do
		n=$((n + 1))
		case "$name" in
		*-evtx-*)
			if [ -n "$evtx_skip" ]; then
				echo "ok $n - $name ($fmt) # SKIP $evtx_skip"
				continue
			fi ;;
		esac
		flag=""
		[ $fmt = json ] && flag=--json
		run "$tmp/a" "$flag" "$a"
		run "$tmp/b" "$flag" "$b"
		if [ $fmt = json ]; then
			normalize_json <"$tmp/a" >"$tmp/a.n"; normalize_json <"$tmp/b" >"$tmp/b.n"
		else
			normalize_text <"$tmp/a" >"$tmp/a.n"; normalize_text <"$tmp/b" >"$tmp/b.n"
		fi
		if [ ! -s "$tmp/a.n" ] || ! grep -q '^exit 0$' "$tmp/a.n"; then
			echo "not ok $n - $name ($fmt): reference run failed"
			sed 's/^/# /' "$tmp/a" | head -5
		elif diff -u "$tmp/a.n" "$tmp/b.n" >"$tmp/diff"; then
			echo "ok $n - $name ($fmt)"
		else
			echo "not ok $n - $name ($fmt)"
			sed 's/^/# /' "$tmp/diff" | cut -c1-300 | head -40
		fi
	done
done
