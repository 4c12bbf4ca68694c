#!/usr/bin/env bash
# policy.sh BUILD_DIR - the sender-group part of "make bench".
#
# mailedge-proxy in front of one Postfix smtp-sink, four ways in the same run:
#   off        no sender groups (today's proxy)
#   edge       sender groups that read the edge maps (a pin directory made
#              here by mailedge-loader init, with a group:2 and a pass entry)
#   dnsbl cold the same plus 3 DNSBL zones served by unbound on loopback, every
#              session from another source address (each one a lookup)
#   dnsbl warm the same, from 16 addresses (answers come from the cache)
# Figures: sessions per second and banner latency (connect to 220, p50 and
# p99) from smtpload greet, 8 client threads; and messages per second with
# groups off and with the DNSBL groups on, warm (smtpload send), whose ratio
# is the issue's "within 5%" goal.
set -euo pipefail

build=${1:?usage: policy.sh BUILD_DIR}
count=${BENCH_GREETS:-20000}
msgs=${BENCH_MESSAGES:-20000}
proxy=$build/mailedge-proxy
load=$build/smtpload
loader=$build/mailedge-loader
base=$((21000 + ($$ % 500) * 10))
sink=$base me=$((base + 1)) dns=$((base + 2))
pin=/sys/fs/bpf/mailedge-benchpol-$$
tmp=$(mktemp -d)
pids=()

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
cleanup() {
	"$loader" --pin-dir "$pin" -q destroy >/dev/null 2>&1 || true
	rm -rf "$pin"
	bench_cleanup
}
trap cleanup EXIT INT TERM
chmod 755 "$tmp"

smtp-sink -u nobody -m 2000 127.0.0.1:$sink 1024 &
pids+=($!)

# Three DNSBL zones; 127.1.0.7 is listed on the first (a weight that does not
# reach the reject range, so every session is served), the rest NXDOMAIN.
cat >"$tmp/unbound.conf" <<EOF
server:
  interface: 127.0.0.1@$dns
  do-ip6: no
  so-reuseport: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$tmp"
  pidfile: ""
  use-syslog: no
  logfile: "$tmp/unbound.log"
  verbosity: 0
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  outgoing-port-avoid: "0-65535"
  outgoing-port-permit: $dns
  local-zone: "." static
  local-data: "7.0.1.127.bl1.bench.example. 300 IN A 127.0.0.2"
  local-zone: "bl1.bench.example." static
  local-zone: "bl2.bench.example." static
  local-zone: "wl.bench.example." static
EOF
unbound -d -c "$tmp/unbound.conf" 2>"$tmp/unbound.err" &
pids+=($!)

"$loader" --pin-dir "$pin" -q init --hosts 1024 --subnets 1024 --rate-entries 1024 \
	--ban-entries 1024 >/dev/null
"$loader" --pin-dir "$pin" -q list add white 127.1.0.9 --action group:2 >/dev/null
"$loader" --pin-dir "$pin" -q list add black 198.51.100.0/24 --action pass >/dev/null

common() {
	cat <<EOF
hostname = "mx.bench.example";
user = "nobody";
pin_dir = "$pin";
relay_domains = [ "example.org" ];
dns = { servers = [ "127.0.0.1:$dns" ]; timeout = 1000; tries = 1; };
limits = { max_per_client = 100000; max_sessions = 200000; errors_soft = 1000; errors_hard = 1000; };
listeners = ( { listen = "127.0.0.1:$me"; pregreet = "ignore"; } );
pools = ( { name = "sink"; members = ( "127.0.0.1:$sink" ); } );
EOF
}
groups_edge='
policies = ( { name = "G2"; }, { name = "WATCH"; action = "reject"; }, { name = "REST"; } );
sender_groups = (
  { name = "PARTNER"; policy = "G2"; edge = [ "group:2" ]; },
  { name = "WATCHED"; policy = "WATCH"; edge = [ "pass" ]; },
  { name = "OTHERS"; policy = "REST"; default = true; } );'
groups_dnsbl='
dnsbl = { sites = [ "bl1.bench.example*1", "bl2.bench.example*2", "wl.bench.example*-2" ];
          timeout = 1000; cache_size = 100000; };
policies = ( { name = "G2"; }, { name = "WATCH"; action = "reject"; }, { name = "BAD"; action = "reject"; },
             { name = "REST"; } );
sender_groups = (
  { name = "PARTNER"; policy = "G2"; edge = [ "group:2" ]; },
  { name = "WATCHED"; policy = "WATCH"; edge = [ "pass" ]; },
  { name = "LISTED"; policy = "BAD"; score_min = 3; },
  { name = "OTHERS"; policy = "REST"; default = true; } );'

me_pid=
start() { # groups-text
	{ common; printf '%s\n' "$1"; } >"$tmp/proxy.conf"
	"$proxy" -q -c "$tmp/proxy.conf" 2>>"$tmp/proxy.log" &
	me_pid=$!
	pids+=($me_pid)
	wait_port "$me" mailedge-proxy
}
stop() {
	kill "$me_pid" 2>/dev/null
	wait "$me_pid" 2>/dev/null || true
}
kv() { # text key
	sed -n "s/.* $2=\([^ ]*\).*/\1/p; s/^$2=\([^ ]*\).*/\1/p" <<<"$1" | head -1
}
declare -A rate med p99 mrate
greet() { # row groups-text sources
	local out
	start "$2"
	out=$("$load" greet --server 127.0.0.1:$me --sessions 8 --count "$count" --sources "$3")
	stop
	rate[$1]=$(kv "$out" rate)
	med[$1]=$(kv "$out" median_ms)
	p99[$1]=$(kv "$out" p99_ms)
	printf '%-12s %12s %10s %10s\n' "$1" "${rate[$1]}" "${med[$1]}" "${p99[$1]}"
	[ "$(kv "$out" failures)" = 0 ] || echo "  ($(kv "$out" failures) sessions failed)"
}
send() { # row groups-text
	local out
	start "$2"
	out=$("$load" send --server 127.0.0.1:$me --sessions 20 --messages "$msgs")
	stop
	mrate[$1]=$(kv "$out" rate)
	printf '%-12s %12s msg/s\n' "$1" "${mrate[$1]}"
}

echo "== sender groups: sessions/s and banner latency, $count sessions, 8 client threads =="
printf '%-12s %12s %10s %10s\n' "" "sessions/s" "p50 ms" "p99 ms"
greet "off" "" 0
greet "edge" "$groups_edge" "$count"
greet "dnsbl cold" "$groups_dnsbl" "$count"
greet "dnsbl warm" "$groups_dnsbl" 16
echo
echo "== throughput with groups off and on (20 sessions, $msgs messages of 1 kB) =="
send "off" ""
send "dnsbl warm" "$groups_dnsbl"
python3 - "${rate[off]}" "${rate[edge]}" "${rate[dnsbl cold]}" "${rate[dnsbl warm]}" \
	"${mrate[off]}" "${mrate[dnsbl warm]}" <<'EOF'
import sys
off, edge, cold, warm, moff, mon = map(float, sys.argv[1:])
print("ratios (same run): sessions/s with edge lookup %.2fx of off, 3 DNSBL zones cold %.2fx, warm %.2fx"
      % (edge / off, cold / off, warm / off))
r = mon / moff
print("messages/s with groups and DNSBL on: %.3fx of off (goal >= 0.95: %s)" % (r, "met" if r >= 0.95 else "MISSED"))
EOF
