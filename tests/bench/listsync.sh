#!/usr/bin/env bash
# listsync.sh BUILD_DIR - the list-sync part of "make bench".
#
# Loading the same entries (BENCH_HOSTS IPv4 hosts, default 8,000,000, plus
# 10,000 /24 subnets) three ways, each measured as wall time and peak RSS of the
# loading process (GNU time), all in namespaces made here:
#
#   mailedge-listsync  a file:// plain source, full sync into fresh maps, then
#                      five refreshes of the same file, each with 1% of the
#                      hosts replaced (the median is the figure)
#   ipset              "ipset restore" of new hash:ip and hash:net sets, then
#                      "ipset swap" into place (how ipset users reload atomically);
#                      the refresh is the same again (ipset has no delta restore)
#   nftables           "nft -f" of a table with both sets; the refresh flushes
#                      and reloads the sets in one transaction
#
# Kernel memory of the loaded lists is reported for mailedge (slab+percpu+
# vmalloc delta); the others' is not separable from the process' and is left out.
set -euo pipefail

build=${1:?usage: listsync.sh BUILD_DIR}
hosts=${BENCH_HOSTS:-8000000}
bench=$build/bench-xdp
loader=$build/mailedge-loader
sync=$build/mailedge-listsync
tag=$$
ns=mebl-$tag
pin=/sys/fs/bpf/mailedge-benchls-$tag
tmp=$(mktemp -d)

cleanup() {
	set +e
	"$loader" --pin-dir "$pin" -q destroy >/dev/null 2>&1
	rm -rf "$pin"
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

kmem_kb() { awk '/^(SUnreclaim|Percpu|VmallocUsed):/{s+=$2} END{print s}' /proc/meminfo; }
# measure LABEL CMD...: run, print "LABEL  wall  peakRSS"; the wall time in $last
measure() {
	local label=$1 out
	shift
	# The bench's own files (a 110 MB list just copied) are written back
	# first, not while the command runs: no peer's disk work is its own.
	sync
	if ! /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err"; then
		echo "bench: $label failed:" >&2
		cat "$tmp/err" >&2
		exit 1
	fi
	out=$(tail -1 "$tmp/time")
	printf '%-44s %9.2f s %10.1f MB\n' "$label" "${out% *}" "$(echo "${out#* }/1024" | bc -l)"
	last=${out% *}
}

echo "== list sync: $hosts IPv4 hosts + 10,000 IPv4 /24 subnets =="
"$bench" hosts "$hosts" 198.51.100.0 0 >"$tmp/hosts.txt"
"$bench" nets 10000 >"$tmp/nets.txt"
cat "$tmp/hosts.txt" "$tmp/nets.txt" >"$tmp/full.txt"
# The refresh: 1% of the hosts replaced by others (from 11.0.0.0/8).
python3 - "$tmp/hosts.txt" "$tmp/nets.txt" "$tmp/full2.txt" <<'EOF'
import sys
hosts = open(sys.argv[1]).read().split()
step = 100
for n, i in enumerate(range(0, len(hosts), step)):
    hosts[i] = "11.%d.%d.%d" % (n >> 16 & 255, n >> 8 & 255, n & 255)
with open(sys.argv[3], "w") as f:
    f.write("\n".join(hosts) + "\n")
    f.write(open(sys.argv[2]).read())
EOF
echo "input: $(wc -l <"$tmp/full.txt") lines, $(du -m "$tmp/full.txt" | cut -f1) MB"
printf '%-44s %11s %13s\n' "" "wall" "peak RSS"

# ---- mailedge ----
"$loader" --pin-dir "$pin" -q init --hosts 8388608 --white-hosts 1024 --subnets 65536 \
	--rate-entries 1024 --ban-entries 1024 >/dev/null
cp "$tmp/full.txt" "$tmp/list.txt"
k0=$(kmem_kb)
measure "mailedge-listsync full sync" "$sync" --pin-dir "$pin" --state-dir "$tmp/state" -q \
	run --force --source "plain:file://$tmp/list.txt"
me_full=$last
k1=$(kmem_kb)
# Five refreshes, each replacing 1% of the hosts (the two versions of the
# list in turn); the figure is their median.
refs=()
for i in 1 2 3 4 5; do
	if [ $((i % 2)) = 1 ]; then cp "$tmp/full2.txt" "$tmp/list.txt"; else cp "$tmp/full.txt" "$tmp/list.txt"; fi
	measure "mailedge-listsync refresh $i, 1% changed" "$sync" --pin-dir "$pin" \
		--state-dir "$tmp/state" -q run --force --source "plain:file://$tmp/list.txt"
	refs+=("$last")
done
me_ref=$(printf '%s\n' "${refs[@]}" | sort -n | sed -n 3p)
echo "  refresh: median of the five $me_ref s (its peak RSS counts the IPv4 host table it maps:"
echo "  the kernel memory below, shared, not a copy)"
echo "  kernel memory of the synced lists: $(( (k1 - k0) / 1024 )) MB" \
	"($(echo "($k1 - $k0) * 1024 / ($hosts + 10000)" | bc) B/entry)"
"$loader" --pin-dir "$pin" -q destroy >/dev/null

# ---- ipset ----
ip netns add "$ns"
ipset_file() { # hostsfile netsfile
	echo "create new4 hash:ip family inet hashsize 4194304 maxelem 16777216"
	sed 's/^/add new4 /' "$1"
	echo "create newnet hash:net family inet hashsize 16384 maxelem 65536"
	sed 's/^/add newnet /' "$2"
}
ipset_file "$tmp/hosts.txt" "$tmp/nets.txt" >"$tmp/ipset1.txt"
ip netns exec "$ns" ipset create live4 hash:ip family inet hashsize 4194304 maxelem 16777216
ip netns exec "$ns" ipset create livenet hash:net family inet maxelem 65536
swap_in() {
	ip netns exec "$ns" ipset restore -f "$1" &&
		ip netns exec "$ns" ipset swap new4 live4 &&
		ip netns exec "$ns" ipset swap newnet livenet &&
		ip netns exec "$ns" ipset destroy new4 && ip netns exec "$ns" ipset destroy newnet
}
export -f swap_in
export ns
measure "ipset restore + swap, full" bash -c "swap_in $tmp/ipset1.txt"
ip_full=$last
head -n "$hosts" "$tmp/full2.txt" >"$tmp/hosts2.txt"
ipset_file "$tmp/hosts2.txt" "$tmp/nets.txt" >"$tmp/ipset2.txt"
measure "ipset restore + swap, 1% changed (full)" bash -c "swap_in $tmp/ipset2.txt"
ip_ref=$last
ip netns del "$ns"

# ---- nftables ----
ip netns add "$ns"
nft_file() { # hostsfile netsfile
	echo "flush ruleset"
	echo "table inet me {"
	echo "  set h { type ipv4_addr; size 16777216; elements = {"
	paste -sd, "$1"
	echo "  }"
	echo "  }"
	echo "  set n { type ipv4_addr; flags interval; elements = {"
	paste -sd, "$2"
	echo "  }"
	echo "  }"
	echo "}"
}
nft_file "$tmp/hosts.txt" "$tmp/nets.txt" >"$tmp/nft1.conf"
nft_file "$tmp/hosts2.txt" "$tmp/nets.txt" >"$tmp/nft2.conf"
measure "nft -f, full" ip netns exec "$ns" nft -f "$tmp/nft1.conf"
nf_full=$last
measure "nft -f, 1% changed (full reload)" ip netns exec "$ns" nft -f "$tmp/nft2.conf"
nf_ref=$last
ip netns del "$ns"

echo
python3 - "$me_full" "$me_ref" "$ip_full" "$ip_ref" "$nf_full" "$nf_ref" <<'EOF'
import sys
mf, mr, i_f, ir, nf, nr = map(float, sys.argv[1:])
print("ratios (same run): full sync  mailedge %.2fx the time of ipset, %.2fx of nft"
      % (mf / i_f, mf / nf))
print("                   refresh    mailedge %.2fx the time of ipset, %.2fx of nft"
      % (mr / ir, mr / nr))
EOF
