#!/usr/bin/env bash
# xdp.sh BUILD_DIR - the XDP part of "make bench".
#
# 1. Every verdict path through BPF_PROG_RUN at full size, cold cache, as a
#    multiple of the floor (one random cache line per frame), with the lists
#    applied as list sync applies them (bench-xdp progrun).
# 2. The BPF test table's rows, timed and checked (bench-xdp rows).
# 3. Drop cost side by side on one veth pair, same sender, same list:
#      floor       a bare XDP_DROP program (what no filter can beat)
#      mailedge    the edge filter, 10,000 blacklisted hosts, synced by
#                  mailedge-listsync from a file:// source (its own tables, as
#                  the public lists are), admin maps at their defaults
#      xdp-filter  xdp-tools' filter, the same 10,000 hosts (its map holds 10,000
#                  at most, and it has no prefixes)
#      nftables    a netdev ingress chain dropping "ip saddr @set", same hosts
#      mailedge and nftables again with 10,000 blacklisted subnets instead
#                  (for mailedge: the next list-sync run, from the same source)
#    The sender is bench-xdp gen (BPF_PROG_RUN live frames, XDP_TX) pinned to
#    CPU 0, cycling through 256 blacklisted sources in 198.51.100.0/24. Figures:
#    dropped packets per second at the receiver, and CPU time per dropped packet
#    (all CPUs' busy time during the run / drops; sender included, so compare
#    each row with the floor row: the difference is the filter's own cost).
# 4. The same three hosts programs (floor, mailedge, xdp-filter) in alternating
#    rounds, each program's own run time per packet from the kernel's BPF
#    statistics (kernel.bpf_stats_enabled, restored on exit): the figure the
#    issue's 1.1x goal is judged on. The all-CPU figure of 3 moves with whatever
#    else the hypervisor runs on the two cores (one run of it has put
#    xdp-filter at 29 ns above the floor and the next at 62); a program's own
#    time, taken in rounds and reduced to medians, does not.
#
# Everything lives in two namespaces made here (mebg-*, mebd-*), removed on exit.
set -euo pipefail

build=${1:?usage: xdp.sh BUILD_DIR}
seconds=${BENCH_SECONDS:-5}
bench=$build/bench-xdp
loader=$build/mailedge-loader
sync=$build/mailedge-listsync
tag=$$
gns=mebg-$tag
dns=mebd-$tag
gif=mebg$tag
dif=mebd$tag
pin=/sys/fs/bpf/mailedge-bench-$tag
tmp=$(mktemp -d)

stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	set +e
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	nsenter --net=/var/run/netns/$dns xdp-filter unload "$dif" --all >/dev/null 2>&1
	rm -rf /sys/fs/bpf/xdp-filter "$pin" 2>/dev/null
	rmdir /sys/fs/bpf/xdp 2>/dev/null
	ip netns del "$gns" 2>/dev/null
	ip netns del "$dns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

in_d() { nsenter --net=/var/run/netns/$dns "$@"; }

echo "== BPF_PROG_RUN: every verdict path at full size, against the floor =="
"$bench" progrun ${BENCH_PROGRUN_ARGS:-}
echo
echo "== BPF_PROG_RUN: the BPF test rows =="
"$bench" rows
echo

# ---- the lab ----
ip netns add "$gns"
ip netns add "$dns"
ip link add "$gif" netns "$gns" type veth peer name "$dif" netns "$dns"
ip -n "$gns" addr add 192.0.2.2/24 dev "$gif"
ip -n "$dns" addr add 192.0.2.1/24 dev "$dif"
ip -n "$gns" link set "$gif" up
ip -n "$dns" link set "$dif" up
# NAPI on the receiver, so frames sent by XDP_TX reach it even without XDP there.
ip netns exec "$dns" ethtool -K "$dif" gro on >/dev/null
mac=$(ip -n "$dns" -br link show "$dif" | awk '{print $3}')
mkdir -p "$pin"

"$bench" hosts 10000 198.51.100.0 256 >"$tmp/hosts.txt"
# 10,000 subnets: 198.51.100.0/24 (the sources) and 9,999 /24s elsewhere.
{ echo 198.51.100.0/24; "$bench" nets 9999; } >"$tmp/nets.txt"

busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
xdp_drops() { in_d ethtool -S "$dif" | awk '/rx_queue_0_xdp_drops/{s+=$2} END{print s+0}'; }
nft_drops() {
	ip netns exec "$dns" nft -j list ruleset | python3 -c '
import json, sys
n = 0
for o in json.load(sys.stdin)["nftables"]:
    r = o.get("rule")
    if r:
        for e in r["expr"]:
            if "counter" in e:
                n += e["counter"]["packets"]
print(n)'
}

declare -A drops_s cpu_ns
run_peer() { # name drops-function
	local name=$1 count=$2 d0 d1 j0 j1 out secs
	# A second of traffic first, untimed: a freshly attached program and the
	# veth's NAPI run slow at first (see the floor below), for every peer.
	"$bench" gen --netns "$gns" --ifname "$gif" --dst-mac "$mac" --src 198.51.100.0 \
		--nsrc 256 --seconds 1 --cpu 0 >/dev/null
	sleep 0.5
	d0=$($count)
	j0=$(busy_jiffies)
	out=$("$bench" gen --netns "$gns" --ifname "$gif" --dst-mac "$mac" --src 198.51.100.0 \
		--nsrc 256 --seconds "$seconds" --cpu 0)
	j1=$(busy_jiffies)
	d1=$($count)
	secs=${out##*seconds=}
	local n=$((d1 - d0)) hz
	hz=$(getconf CLK_TCK)
	if [ "$n" -le 0 ]; then
		echo "bench: $name dropped nothing: the setup is broken" >&2
		exit 1
	fi
	drops_s[$name]=$(python3 -c "print('%.0f' % ($n / $secs))")
	cpu_ns[$name]=$(python3 -c "print('%.1f' % (($j1 - $j0) / $hz * 1e9 / $n))")
	printf '%-22s %12s %14s\n' "$name" "${drops_s[$name]}" "${cpu_ns[$name]}"
}

echo "== drop cost: one veth pair, sender pinned to CPU 0, ${seconds}s per peer =="
echo "list: 10,000 hosts (or 10,000 /24 subnets); traffic: 256 blacklisted sources"
printf '%-22s %12s %14s\n' "peer" "drops/s" "CPU ns/drop"

# floor; measured first and again last, because the first seconds of traffic
# through a new veth pair run slow (a warm-up run is thrown away too) and a
# floor above a filter's cost would make every "cost above the floor" a lie.
floor_run() { # row name
	"$bench" drop-attach "$dns" "$dif" "$pin"
	"$bench" gen --netns "$gns" --ifname "$gif" --dst-mac "$mac" --src 198.51.100.0 \
		--nsrc 256 --seconds 2 --cpu 0 >/dev/null
	run_peer "$1" xdp_drops
	rm -f "$pin/drop_link" "$pin/drop_count"
}
floor_run "floor (XDP_DROP)"

# mailedge, hosts then subnets, each list as list sync loads it: one source
# whose file changes between the runs (the maps are bpffs pins, so list sync
# needs no network namespace)
lp="$pin/me"
me_sync() { # list-file
	cp "$1" "$tmp/synced.txt"
	"$sync" --pin-dir "$lp" --state-dir "$tmp/state" -q run --force \
		--source "black:plain:file://$tmp/synced.txt"
}
in_d "$loader" --pin-dir "$lp" -q attach "$dif" >/dev/null
me_sync "$tmp/hosts.txt"
run_peer "mailedge hosts" xdp_drops
me_sync "$tmp/nets.txt"
run_peer "mailedge subnets" xdp_drops
in_d "$loader" --pin-dir "$lp" -q destroy >/dev/null

# xdp-filter (hosts only)
in_d xdp-filter load "$dif" -m native -f ipv4 -p allow >/dev/null
"$bench" xdpfilter-fill "$tmp/hosts.txt"
run_peer "xdp-filter hosts" xdp_drops
in_d xdp-filter unload "$dif" --all >/dev/null
rm -rf /sys/fs/bpf/xdp-filter
rmdir /sys/fs/bpf/xdp 2>/dev/null || true

# nftables: netdev ingress, before the IP stack but after skb allocation
nft_load() { # file-of-entries interval?
	{
		echo "table netdev mebench {"
		echo "  set black { type ipv4_addr; $2 size 65536; elements = {"
		paste -sd, "$1"
		echo "  } }"
		echo "  chain ingress { type filter hook ingress device \"$dif\" priority -500;"
		echo "    policy accept; ip saddr @black counter drop; }"
		echo "}"
	} >"$tmp/nft.conf"
	ip netns exec "$dns" nft -f "$tmp/nft.conf"
}
nft_load "$tmp/hosts.txt" ""
run_peer "nftables hosts" nft_drops
ip netns exec "$dns" nft delete table netdev mebench
nft_load "$tmp/nets.txt" "flags interval;"
run_peer "nftables subnets" nft_drops
ip netns exec "$dns" nft delete table netdev mebench
floor_run "floor again"

echo
# The cheaper of the two floor runs is the floor.
floor=$(python3 -c "print(min(${cpu_ns["floor (XDP_DROP)"]}, ${cpu_ns["floor again"]}))")
python3 - "$floor" "${cpu_ns[mailedge hosts]}" "${cpu_ns[xdp-filter hosts]}" \
	"${cpu_ns[nftables hosts]}" "${cpu_ns[mailedge subnets]}" "${cpu_ns[nftables subnets]}" \
	"${drops_s[mailedge hosts]}" "${drops_s[xdp-filter hosts]}" "${drops_s[nftables hosts]}" \
	"${drops_s[mailedge subnets]}" "${drops_s[nftables subnets]}" <<'EOF'
import sys
fl, meh, xf, nfh, mes, nfs, dmeh, dxf, dnfh, dmes, dnfs = map(float, sys.argv[1:])
print("ratios (same run):")
print("  hosts:   mailedge drops %.2fx the packets/s of nftables, %.2fx of xdp-filter" % (dmeh / dnfh, dmeh / dxf))
print("           filter cost above the floor: mailedge %.1f ns, xdp-filter %.1f ns, nftables %.1f ns"
      % (meh - fl, xf - fl, nfh - fl))
print("  subnets: mailedge drops %.2fx the packets/s of nftables; cost above floor %.1f vs %.1f ns"
      % (dmes / dnfs, mes - fl, nfs - fl))
# Issue 10's goal, on the cost each filter adds to the bare XDP_DROP.
if xf - fl > 0:
    print("mailedge vs xdp-filter, all-CPU, one run: %.2f x (the goal is judged below)"
          % ((meh - fl) / (xf - fl)))
else:
    print("mailedge vs xdp-filter, all-CPU: n/a (xdp-filter at or below the floor)")
EOF

echo
rounds=${BENCH_ROUNDS:-4}
echo "== drop cost per program run: floor, mailedge, xdp-filter in $rounds alternating rounds =="
echo "each program's own run time per packet (kernel.bpf_stats_enabled), 4 s a round, hosts list"
# run_time_ns and run_cnt of the attached XDP program called $1
prog_stats() {
	bpftool -j prog show | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("type") == "xdp" and p.get("name") == sys.argv[1]:
        print(p.get("run_time_ns", 0), p.get("run_cnt", 0))
        break
else:
    print(0, 0)' "$1"
}
declare -A per_run
prog_round() { # row program-name
	local t0 c0 t1 c1
	"$bench" gen --netns "$gns" --ifname "$gif" --dst-mac "$mac" --src 198.51.100.0 \
		--nsrc 256 --seconds 1 --cpu 0 >/dev/null
	read -r t0 c0 < <(prog_stats "$2")
	"$bench" gen --netns "$gns" --ifname "$gif" --dst-mac "$mac" --src 198.51.100.0 \
		--nsrc 256 --seconds 4 --cpu 0 >/dev/null
	read -r t1 c1 < <(prog_stats "$2")
	if [ "$((c1 - c0))" -le 0 ]; then
		echo "bench: $1 ($2) ran on no packet: the setup is broken" >&2
		exit 1
	fi
	per_run[$1]+="$(python3 -c "print('%.1f' % (($t1 - $t0) / ($c1 - $c0)))") "
}
sysctl -qw kernel.bpf_stats_enabled=1
in_d "$loader" --pin-dir "$lp" -q init >/dev/null
me_sync "$tmp/hosts.txt"
for r in $(seq "$rounds"); do
	"$bench" drop-attach "$dns" "$dif" "$pin"
	prog_round floor drop_all
	rm -f "$pin/drop_link" "$pin/drop_count"
	in_d "$loader" --pin-dir "$lp" -q attach "$dif" >/dev/null
	prog_round mailedge mailedge_xdp
	in_d "$loader" --pin-dir "$lp" -q detach "$dif" >/dev/null
	in_d xdp-filter load "$dif" -m native -f ipv4 -p allow >/dev/null
	"$bench" xdpfilter-fill "$tmp/hosts.txt"
	prog_round xdp-filter xdpfilt_alw_ip
	in_d xdp-filter unload "$dif" --all >/dev/null
	rm -rf /sys/fs/bpf/xdp-filter
	rmdir /sys/fs/bpf/xdp 2>/dev/null || true
done
in_d "$loader" --pin-dir "$lp" -q destroy >/dev/null
python3 - "${per_run[floor]}" "${per_run[mailedge]}" "${per_run[xdp-filter]}" <<'EOF'
import statistics, sys
fl, me, xf = ([float(x) for x in a.split()] for a in sys.argv[1:])
for name, v in (("floor (XDP_DROP)", fl), ("mailedge hosts", me), ("xdp-filter hosts", xf)):
    print("%-18s ns/run %s  median %.1f" % (name, " ".join("%.1f" % x for x in v),
                                            statistics.median(v)))
f, m, x = (statistics.median(v) for v in (fl, me, xf))
print("above the floor: mailedge %.1f ns, xdp-filter %.1f ns" % (m - f, x - f))
if x - f > 0:
    r = (m - f) / (x - f)
    print("mailedge vs xdp-filter: %.2f x (goal <= 1.1x: %s)" % (r, "met" if r <= 1.1 else "MISSED"))
else:
    print("mailedge vs xdp-filter: n/a (xdp-filter at or below the floor: rerun)")
EOF
