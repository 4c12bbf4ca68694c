#!/usr/bin/env bash
# demo.sh BUILD_DIR - "make demo": a mail gateway lab in network namespaces:
# the XDP edge filter, list sync, and the SMTP proxy relaying to a backend pool.
#
#   medemo-client  192.0.2.10      a clean sender
#                  192.0.2.66      a spammer on the blacklist (dropped)
#                  198.51.100.20   inside a blacklisted subnet (reset)
#                  198.51.100.7    whitelisted inside that subnet (passes)
#                  192.0.2.50      floods SYNs (connection threshold)
#                  192.0.2.77      guesses recipient addresses (harvest ban)
#                  203.0.113.9     listed by a (local copy of a) public spam list
#        | veth
#   medemo-gw      192.0.2.1, 198.51.100.1, 203.0.113.1: XDP attached natively
#                  on the veth; mailedge-proxy on port 25
#        | veth (IPv6)
#   medemo-mx      2001:db8:b::10 and ::11: two Postfix smtp-sink backends
#
# Nothing outside the two namespaces is touched; they, the pinned maps and the
# listener are removed on every exit path.
set -euo pipefail

build=${1:-build/rel}
src=$(cd "$(dirname "$0")/.." && pwd)
case $build in /*) ;; *) build=$src/$build ;; esac
loader=$build/mailedge-loader
listsync=$build/mailedge-listsync
cns=medemo-client
gns=medemo-gw
mns=medemo-mx
proxy=$build/mailedge-proxy
pin=/sys/fs/bpf/mailedge-demo

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (BPF, namespaces)" >&2
	exit 1
fi

bold=$(tput bold 2>/dev/null || true)
norm=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$norm"; }
run() {
	printf '%s$ %s%s\n' "$bold" "$*" "$norm"
	"$@"
}
gw() { nsenter --net=/var/run/netns/$gns "$@"; }
me() { run nsenter --net=/var/run/netns/$gns "$loader" --pin-dir "$pin" "$@"; }

web=
proxy_pid=
sink_pids=
tmp=$(mktemp -d)
cleanup() {
	set +e
	[ -n "$web" ] && kill "$web" 2>/dev/null
	gw "$loader" --pin-dir "$pin" -q destroy >/dev/null 2>&1
	rm -rf "$pin"
	if [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null; then
		# SIGTERM drains: give it a moment, so the lab is gone when we are.
		for _ in $(seq 50); do kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$proxy_pid" 2>/dev/null
	fi
	for p in $sink_pids; do kill "$p" 2>/dev/null; done
	ip netns del "$cns" 2>/dev/null
	ip netns del "$gns" 2>/dev/null
	ip netns del "$mns" 2>/dev/null
}
trap 'cleanup; rm -rf "$tmp"' EXIT INT TERM
cleanup
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

step "building the lab: client, gateway and backend namespaces joined by veth pairs"
ip netns add "$cns"
ip netns add "$gns"
ip netns add "$mns"
ip link add me-c0 netns "$cns" type veth peer name me-g0 netns "$gns"
for a in 192.0.2.10/24 192.0.2.66/24 192.0.2.50/24 192.0.2.77/24 198.51.100.20/24 \
	198.51.100.7/24 203.0.113.9/24; do
	ip -n "$cns" addr add "$a" dev me-c0
done
ip -n "$gns" addr add 192.0.2.1/24 dev me-g0
ip -n "$gns" addr add 198.51.100.1/24 dev me-g0
ip -n "$gns" addr add 203.0.113.1/24 dev me-g0
ip link add me-g1 netns "$gns" type veth peer name me-b0 netns "$mns"
ip -n "$gns" addr add 2001:db8:b::1/64 dev me-g1 nodad
ip -n "$mns" addr add 2001:db8:b::10/64 dev me-b0 nodad
ip -n "$mns" addr add 2001:db8:b::11/64 dev me-b0 nodad
ip -n "$gns" link set me-g1 up
ip -n "$mns" link set me-b0 up
for ns in "$cns" "$gns" "$mns"; do ip -n "$ns" link set lo up; done
ip -n "$cns" link set me-c0 up
ip -n "$gns" link set me-g0 up
# XDP_TX replies (resets) reach the client only if its veth end runs XDP too.
ip netns exec "$cns" ethtool -K me-c0 tx off >/dev/null
ip -n "$cns" link set dev me-c0 xdpdrv obj "$src/build/bpf/xdp_pass.bpf.o" sec xdp
echo "client me-c0: 192.0.2.10 192.0.2.66 192.0.2.50 192.0.2.77 198.51.100.20 198.51.100.7 203.0.113.9"
echo "gateway me-g0: 192.0.2.1 198.51.100.1 203.0.113.1; me-g1: 2001:db8:b::1"
echo "backends me-b0: 2001:db8:b::10 2001:db8:b::11"

# Connect from a given source address and say what happened.
try() {
	local from=$1 what=$2
	printf '  %-15s %-34s -> ' "$from" "$what"
	ip netns exec "$cns" python3 - "$from" <<'EOF'
import socket, sys, time
s = socket.socket(); s.settimeout(2); s.bind((sys.argv[1], 0))
t = time.monotonic()
try:
    s.connect(("192.0.2.1", 25))
    print("connected: " + s.recv(100).decode().strip())
except ConnectionRefusedError:
    print("refused after %.0f ms (RST sent by XDP)" % ((time.monotonic() - t) * 1000))
except socket.timeout:
    print("no answer in 2 s (dropped at the driver)")
EOF
}

step "attach the edge filter to the gateway's interface"
me attach me-g0
me status

step "backends: two smtp-sink servers; on the gateway, mailedge-proxy in front of them"
chmod 755 "$tmp" # the backends and the proxy run as nobody
mkdir -p "$tmp/mail" && chmod 777 "$tmp/mail"
for a in 2001:db8:b::10 2001:db8:b::11; do
	ip netns exec "$mns" smtp-sink -u nobody -d "$tmp/mail/%M." "[$a]:25" 100 &
	sink_pids="$sink_pids $!"
done
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/mx.key" -out "$tmp/mx.pem" -days 30 \
	-subj "/CN=mx.demo.example" 2>/dev/null
chmod 644 "$tmp/mx.key"
# The one user the backends know: the proxy refuses others itself (valid
# recipients), counts them per client, and bans a harvester at the edge.
echo "bob@example.org" >"$tmp/valid-recipients"
cat >"$tmp/proxy.conf" <<EOF
hostname = "mx.demo.example";
workers = 2;
pin_dir = "$pin";
relay_domains = [ "example.org" ];
valid_recipients = "$tmp/valid-recipients";
limits = { harvest_limit = 10; harvest_ban = "10m"; };
listeners = ( { listen = "0.0.0.0:25"; starttls = "optional";
                cert = "$tmp/mx.pem"; key = "$tmp/mx.key"; pool = "mx"; } );
pools = ( { name = "mx"; members = ( "[2001:db8:b::10]:25", "[2001:db8:b::11]:25" ); } );
EOF
chmod 644 "$tmp/proxy.conf" "$tmp/valid-recipients"
sed 's/^/  /' "$tmp/proxy.conf"
printf '%s$ mailedge-proxy -c proxy.conf%s\n' "$bold" "$norm"
# nsenter, not "ip netns exec": that remounts /sys, hiding the pinned maps
# under /sys/fs/bpf that the proxy reads and bans into.
nsenter --net=/var/run/netns/$gns "$proxy" -c "$tmp/proxy.conf" 2>"$tmp/proxy.log" &
proxy_pid=$!
sleep 1


step "before any list: everyone reaches port 25"
try 192.0.2.10 "clean sender"
try 192.0.2.66 "spammer"

step "blacklist a host (drop) and a subnet (reset); whitelist one host in it"
me list add black 192.0.2.66
# The demo gateway itself sits on 198.51.100.0/24: without --force the loader
# refuses an entry that covers its own address.
me list add black 198.51.100.0/24 --action reset --force
me list add white 198.51.100.7
me list show

step "the same connections now"
try 192.0.2.10 "clean sender"
try 192.0.2.66 "blacklisted host (drop)"
try 198.51.100.20 "blacklisted subnet (reset)"
try 198.51.100.7 "whitelisted inside it"

step "per-source connection threshold: 5/s, burst 5, ban 30 s"
me threshold set --rate 5 --burst 5 --ban 30
printf '%s$ hping3 -S -p 25 -i u1000 -c 1000 (from 192.0.2.50)%s\n' "$bold" "$norm"
ip netns exec "$cns" hping3 -q -S -p 25 -i u1000 -c 1000 -a 192.0.2.50 192.0.2.1 \
	>/dev/null 2>&1 || true
try 192.0.2.50 "the flooder, now banned"
try 192.0.2.10 "clean sender, unaffected"

step "the admin's questions: why is it dropped, who is banned"
me lookup 198.51.100.7
me threshold bans
me unban 192.0.2.50
try 192.0.2.50 "the flooder, unbanned"

step "list sync: a Spamhaus DROP list (a local copy, served on 127.0.0.1) into the maps"
mkdir -p "$tmp/www"
cat >"$tmp/www/drop_v4.json" <<'EOF'
{"cidr":"203.0.113.0/24","sblid":"SBL000001","rir":"example"}
{"cidr":"100.64.0.0/10","sblid":"SBL000002","rir":"example"}
{"type":"metadata","timestamp":1789220642,"size":128,"records":2,"copyright":"demo"}
EOF
# A free port, chosen by the kernel and reported back by the server.
python3 -c '
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
h.log_message = lambda *a: None
s = http.server.HTTPServer(("127.0.0.1", 0), h)
print(s.server_port, flush=True)
s.serve_forever()
' "$tmp/www" >"$tmp/port" 2>/dev/null &
web=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$tmp/port" ] && break; sleep 0.2; done
url=http://127.0.0.1:$(cat "$tmp/port")/drop_v4.json
try 203.0.113.9 "listed by the spam list, before sync"
run "$listsync" --pin-dir "$pin" --state-dir "$tmp/state" run --source "spamhaus-json:$url"
try 203.0.113.9 "listed by the spam list, after sync"
try 192.0.2.10 "clean sender, unaffected"
echo "(a second run finds the source not due: Spamhaus asks for one fetch an hour)"
run "$listsync" --pin-dir "$pin" --state-dir "$tmp/state" run --source "spamhaus-json:$url"
me list show --synced

step "mail through the gateway: a clean client, over STARTTLS, to the backend pool"
run ip netns exec "$cns" swaks --server 192.0.2.1 --local-interface 192.0.2.10 --tls \
	--from alice@example.net --to bob@example.org --h-Subject "through mailedge" \
	--body "Relayed by the demo." --silent 1 && echo "  -> accepted (250), delivered to a backend"
echo "messages received by the backends: $(ls "$tmp/mail" | wc -l)"
step "relay control: the gateway is not an open relay"
ip netns exec "$cns" swaks --server 192.0.2.1 --local-interface 192.0.2.10 \
	--from alice@example.net --to victim@elsewhere.example --quit-after RCPT 2>&1 |
	grep -E '^<\*?\*? +554' | sed 's/^/  /'
step "harvest prevention: a client guessing addresses is banned at the edge"
echo "  192.0.2.77 tries 30 recipients; only bob@example.org exists (harvest_limit 10)"
ip netns exec "$cns" python3 - <<'EOF'
import socket
s = socket.socket(); s.bind(("192.0.2.77", 0)); s.settimeout(5)
s.connect(("192.0.2.1", 25)); f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode().rstrip()
        if len(l) < 4 or l[3] != "-":
            return l
reply(); s.sendall(b"EHLO harvester.example\r\n"); reply()
s.sendall(b"MAIL FROM:<x@example.net>\r\n"); reply()
last = ""
for i in range(30):
    try:
        s.sendall(b"RCPT TO:<user%d@example.org>\r\n" % i)
        r = reply()
    except OSError:
        break
    if not r:
        break
    if r != last:
        print("  RCPT %2d -> %s" % (i + 1, r))
    last = r
    if r.startswith("421"):
        break
EOF
try 192.0.2.77 "the harvester, next connection"
me lookup 192.0.2.77
me unban 192.0.2.77
try 192.0.2.77 "the harvester, unbanned"

step "SMTP smuggling: a bare <LF>.<LF> inside a message is refused, nothing smuggled"
ip netns exec "$cns" python3 - <<'EOF'
import socket, time
s = socket.socket(); s.bind(("192.0.2.10", 0)); s.settimeout(3)
s.connect(("192.0.2.1", 25)); s.recv(200)
s.sendall(b"EHLO x\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
time.sleep(0.5); s.recv(2000)
s.sendall(b"Subject: x\r\n\r\nhi\n.\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
          b"DATA\r\nsmuggled\r\n.\r\nQUIT\r\n")
time.sleep(0.5); print("  " + s.recv(2000).decode().strip().replace("\r\n", "\n  "))
EOF
echo "messages received by the backends: $(ls "$tmp/mail" | wc -l) (still one; no 'evil' in any:" \
	"$(grep -l evil "$tmp"/mail/* 2>/dev/null | wc -l))"
step "the proxy's log"
grep -E "msgs=1|reject" "$tmp/proxy.log" | tail -4 | sed 's/^mailedge-proxy: /  /'

step "what the filter did"
me status

step "lists survive the loader, a detach and a re-attach"
me detach me-g0
try 192.0.2.66 "blacklisted host, filter detached"
me attach me-g0
try 192.0.2.66 "blacklisted host, re-attached"

step "done: removing the lab"
