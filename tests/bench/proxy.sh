#!/usr/bin/env bash
# proxy.sh BUILD_DIR - the proxy part of "make bench".
#
# One Postfix smtp-sink as the backend, reached four ways in the same run:
#   direct       the client talks to the sink itself
#   mailedge     mailedge-proxy in front of it
#   nginx        nginx's mail proxy (libnginx-mod-mail; auth_http answered by a
#                static location of the same nginx)
#   haproxy      haproxy in TCP mode (it cannot do STARTTLS, so no TLS row)
# Throughput: smtp-source (Postfix's load generator; plain only) and the
# project's smtpload (plain and STARTTLS). Latency: one session at a time, so
# that it is the path's own cost; "added latency" is its median minus direct's.
# Memory: the RSS of each proxy's processes before and after 10,000 idle
# sessions (greeting and EHLO done; for TLS, after STARTTLS), per session.
# Everything on 127.0.0.1, on ports derived from this shell's pid.
set -euo pipefail

build=${1:?usage: proxy.sh BUILD_DIR}
msgs=${BENCH_MESSAGES:-20000}
sessions=${BENCH_SESSIONS:-20}
idle=${BENCH_IDLE:-10000}
size=${BENCH_SIZE:-1024}
proxy=$build/mailedge-proxy
load=$build/smtpload
# Below the ephemeral range (32768-): a port an earlier connection still
# holds in TIME_WAIT as its local port cannot be listened on.
base=$((20000 + ($$ % 500) * 10))
sink=$base me=$((base + 1)) ng=$((base + 2)) ha=$((base + 3)) auth=$((base + 4))
tmp=$(mktemp -d)
pids=()

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT INT TERM

# As many descriptors as allowed. A TCP proxy (haproxy) holds two per session,
# so the idle count is what two per session fit into, the same for every proxy.
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard"
if [ $(((hard - 1000) / 2)) -lt "$idle" ]; then
	idle=$(((hard - 1000) / 2))
	echo "note: descriptor limit $hard: measuring $idle idle sessions instead of 10,000"
fi
chmod 755 "$tmp"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 60 \
	-subj "/CN=mx.bench.example" 2>/dev/null
chmod 644 "$tmp/key.pem"

# -m: smtp-sink serves 256 connections at a time by default, and haproxy's
# idle sessions each hold one to it.
smtp-sink -u nobody -m $((idle + 100)) 127.0.0.1:$sink 4096 &
pids+=($!)

cat >"$tmp/proxy.conf" <<EOF
hostname = "mx.bench.example";
user = "nobody";
relay_domains = [ "example.org" ];
limits = { max_per_client = 100000; max_sessions = 200000; errors_soft = 1000; errors_hard = 1000; };
listeners = ( { listen = "127.0.0.1:$me"; starttls = "optional";
                cert = "$tmp/cert.pem"; key = "$tmp/key.pem"; pregreet = "ignore"; } );
pools = ( { name = "sink"; members = ( "127.0.0.1:$sink" ); } );
EOF
start_me() {
	"$proxy" -q -c "$tmp/proxy.conf" &
	me_pid=$!
	pids+=($me_pid)
}

mkdir -p "$tmp/nginx"
cat >"$tmp/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_mail_module.so;
user nobody nogroup;
worker_processes auto;
worker_rlimit_nofile $hard;
pid $tmp/nginx.pid;
error_log $tmp/nginx/error.log error;
events { worker_connections $(( hard / 2 )); }
http {
    access_log off;
    client_body_temp_path $tmp/nginx;
    proxy_temp_path $tmp/nginx;
    fastcgi_temp_path $tmp/nginx;
    uwsgi_temp_path $tmp/nginx;
    scgi_temp_path $tmp/nginx;
    server {
        listen 127.0.0.1:$auth;
        location /auth {
            add_header Auth-Status OK;
            add_header Auth-Server 127.0.0.1;
            add_header Auth-Port $sink;
            return 200;
        }
    }
}
mail {
    server_name mx.bench.example;
    auth_http 127.0.0.1:$auth/auth;
    proxy_pass_error_message on;
    xclient off;
    smtp_auth none;
    # As haproxy's "timeout client" below: idle sessions must outlive the
    # time it takes to open 10,000 of them (nginx's default is 60 s).
    timeout 10m;
    server {
        listen 127.0.0.1:$ng;
        protocol smtp;
        starttls on;
        ssl_certificate $tmp/cert.pem;
        ssl_certificate_key $tmp/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
    }
}
EOF
start_ng() {
	nginx -c "$tmp/nginx.conf" -g 'daemon off;' &
	ng_pid=$!
	pids+=($ng_pid)
}

# haproxy wants two descriptors per connection for maxconn and refuses to
# start past the hard limit, which "idle" was sized to fit with room to spare.
cat >"$tmp/haproxy.cfg" <<EOF
global
    maxconn $((idle + 200))
defaults
    mode tcp
    timeout connect 5s
    timeout client 10m
    timeout server 10m
frontend smtp
    bind 127.0.0.1:$ha
    default_backend sink
backend sink
    server s1 127.0.0.1:$sink
EOF
start_ha() {
	haproxy -q -f "$tmp/haproxy.cfg" &
	ha_pid=$!
	pids+=($ha_pid)
}
start_me
start_ng
start_ha
wait_port $sink smtp-sink
wait_port $me mailedge-proxy
wait_port $ng nginx
wait_port $ha haproxy

# RSS (kB) of a process and its children (nginx: the master and its workers).
rss_kb() { # pid
	local t=0 p
	for p in $1 $(pgrep -P "$1"); do
		t=$((t + $(awk '/^VmRSS:/{print $2}' /proc/$p/status 2>/dev/null || echo 0)))
	done
	echo $t
}

declare -A rate med
source_run() { # label port
	local t0 t1
	t0=$(date +%s.%N)
	smtp-source -s "$sessions" -m "$msgs" -l "$size" -f load@example.net -t user@example.org \
		"127.0.0.1:$2" >/dev/null
	t1=$(date +%s.%N)
	printf '%-30s %10.0f msg/s\n' "smtp-source -> $1" "$(echo "$msgs / ($t1 - $t0)" | bc -l)"
}
# smtpload's summary line is KEY=VALUE pairs; the number after KEY=.
kv() { # summary key
	echo "$1" | sed "s/.*$2=\([0-9.]*\).*/\1/"
}
load_send() { # port sessions messages [--tls]
	"$load" send --server "127.0.0.1:$1" ${4:-} --sessions "$2" --messages "$3" --size "$size"
}
declare -A cpu_us
# On this machine the load generator, the sink and the proxy share the
# cores, so messages/s through a proxy is bounded by everyone's CPU: the
# proxy's own CPU per message is the figure a bigger machine would scale by.
load_run() { # label port [--tls] [server-pid]
	local out t0 t1 pid=${4:-}
	[ -n "$pid" ] && t0=$(ticks "$pid")
	out=$(load_send "$2" "$sessions" "$msgs" ${3:-})
	[ -n "$pid" ] && t1=$(ticks "$pid") &&
		cpu_us[$1]=$(echo "($t1 - $t0) * 1000000 / $hz / $msgs" | bc -l)
	rate[$1]=$(kv "$out" rate)
	med[$1]=$(kv "$out" median_ms)
	printf '%-30s %10.0f msg/s   median %6.2f ms  p99 %6.2f ms  failures=%s%s\n' \
		"smtpload -> $1" "${rate[$1]}" "${med[$1]}" "$(kv "$out" p99_ms)" \
		"$(kv "$out" failures)" \
		"${cpu_us[$1]:+$(printf '  proxy CPU %.0f us/msg' "${cpu_us[$1]}")}"
}

echo "== SMTP proxy: $msgs messages of ${size} B over $sessions concurrent sessions, one smtp-sink =="
source_run direct $sink
source_run mailedge $me
source_run nginx $ng
source_run haproxy $ha
load_run direct $sink
load_run mailedge $me "" "$me_pid"
load_run nginx $ng "" "$ng_pid"
load_run haproxy $ha "" "$ha_pid"
load_run "mailedge STARTTLS" $me --tls "$me_pid"
load_run "nginx STARTTLS" $ng --tls "$ng_pid"

# Latency without queueing: one session at a time, so a median is the path's
# own cost and not the sink's backlog.
echo
echo "== latency, one session at a time ($((msgs / 10)) messages) =="
declare -A lat1
lat_run() { # label port [--tls]
	local out
	out=$(load_send "$2" 1 $((msgs / 10)) ${3:-})
	lat1[$1]=$(kv "$out" median_ms)
	printf '%-30s median %6.3f ms  p99 %6.3f ms\n' "$1" "${lat1[$1]}" "$(kv "$out" p99_ms)"
}
lat_run direct $sink
lat_run mailedge $me
lat_run nginx $ng
lat_run haproxy $ha
lat_run "mailedge STARTTLS" $me --tls
lat_run "nginx STARTTLS" $ng --tls

echo
echo "== memory per idle session ($idle sessions, RSS of the proxy's processes) =="
# Each measured on a freshly started proxy: a heap that has served the load
# runs has free memory that idle sessions would reuse without any growth.
restart() { # me|ng|ha
	case $1 in
	me) kill "$me_pid"; wait "$me_pid" 2>/dev/null || true; start_me ;;
	ng) kill "$ng_pid"; wait "$ng_pid" 2>/dev/null || true; start_ng ;;
	ha) kill "$ha_pid"; wait "$ha_pid" 2>/dev/null || true; start_ha ;;
	esac
	case $1 in me) wait_port $me mailedge-proxy ;; ng) wait_port $ng nginx ;;
	ha) wait_port $ha haproxy ;; esac
	# Let the workers finish starting, so "before" counts all of them.
	sleep 0.5
}
idle_run() { # label port which [--tls]
	local before after pid
	restart "$3"
	case $3 in me) pid=$me_pid ;; ng) pid=$ng_pid ;; ha) pid=$ha_pid ;; esac
	before=$(rss_kb "$pid")
	"$load" idle --server "127.0.0.1:$2" ${4:-} --count "$idle" >"$tmp/idle.out" &
	local lp=$!
	# Sessions open one after another, each at the proxy's own pace (nginx
	# with STARTTLS takes some 40 ms apiece): wait as long as the loader lives.
	while kill -0 "$lp" 2>/dev/null && ! grep -q ready "$tmp/idle.out"; do sleep 0.2; done
	if ! grep -q ready "$tmp/idle.out"; then
		echo "bench: $1: the idle sessions did not all open" >&2
		exit 1
	fi
	after=$(rss_kb "$pid")
	kill "$lp" 2>/dev/null
	wait "$lp" 2>/dev/null || true
	printf '%-30s %8.1f kB/session  (%d -> %d kB)\n' "$1" \
		"$(echo "($after - $before) / $idle" | bc -l)" "$before" "$after"
	sleep 1
}
idle_run "mailedge plain" $me me
idle_run "nginx plain" $ng ng
idle_run "haproxy plain" $ha ha
idle_run "mailedge STARTTLS" $me me --tls
idle_run "nginx STARTTLS" $ng ng --tls

echo
python3 - "${rate[direct]}" "${rate[mailedge]}" "${rate[nginx]}" "${rate[haproxy]}" \
	"${lat1[direct]}" "${lat1[mailedge]}" "${lat1[nginx]}" "${lat1[haproxy]}" \
	"${rate[mailedge STARTTLS]}" "${rate[nginx STARTTLS]}" \
	"${cpu_us[mailedge]}" "${cpu_us[haproxy]}" "${cpu_us[nginx]}" <<'EOF'
import sys
rd, rm, rn, rh, md, mm, mn, mh, tm, tn, cm, ch, cn = map(float, sys.argv[1:])
print("ratios (same run, smtpload): mailedge %.2fx the messages/s of direct, %.2fx of nginx, "
      "%.2fx of haproxy" % (rm / rd, rm / rn, rm / rh))
print("  added latency (one session, median): mailedge %+.3f ms, nginx %+.3f ms, haproxy %+.3f ms"
      % (mm - md, mn - md, mh - md))
print("  STARTTLS: mailedge %.2fx the messages/s of nginx" % (tm / tn))
print("  proxy CPU per message (plain): mailedge %.0f us, haproxy %.0f us (%.2fx), nginx %.0f us"
      % (cm, ch, cm / ch, cn))
EOF
