#!/usr/bin/env bash
# tls.sh BUILD_DIR - the TLS part of "make bench".
#
# Handshakes: openssl s_time against an implicit-TLS SMTP listener of
# mailedge-proxy and a TLS mail listener of nginx (libnginx-mod-mail), for an
# ECDSA P-256 and an RSA 2048 certificate: full TLS 1.3, full TLS 1.2, and
# TLS 1.2 resumed from a ticket. The figure that matters is handshakes per
# second of *server* CPU (utime+stime of its processes over the run): s_time
# and the server share this machine's cores, so wall-clock rates mostly
# measure the client. The bound next to it is what OpenSSL's own primitives
# allow one core (openssl speed: one signature and one X25519 key exchange
# per full handshake). Rounds alternate the peers; medians are compared.
#
# IMAP offload: blob.py (an IMAP-shaped bulk server, tests/bench/blob.py)
# behind mailedge-proxy's protocol=tcp listener and behind haproxy in TCP mode
# with TLS termination; the same client fetches the same blobs through each,
# and directly in plaintext for the ceiling.
set -euo pipefail

build=${1:?usage: tls.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
proxy=$build/mailedge-proxy
secs=${BENCH_TLS_SECONDS:-5}
rounds=${BENCH_TLS_ROUNDS:-3}
blob_size=${BENCH_BLOB_SIZE:-16777216}
blob_count=${BENCH_BLOB_COUNT:-64}
# Below the ephemeral range (32768-): a port an earlier connection still
# holds in TIME_WAIT as its local port cannot be listened on.
base=$((25000 + ($$ % 700) * 10))
me_ec=$base me_rsa=$((base + 1)) ng_ec=$((base + 2)) ng_rsa=$((base + 3))
blob=$((base + 4)) me_imap=$((base + 5)) ha_imap=$((base + 6)) sink=$((base + 7))
tmp=$(mktemp -d)
pids=()

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT INT TERM
chmod 755 "$tmp"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ec.key" \
	-out "$tmp/ec.pem" -days 60 -subj "/CN=mx.bench.example" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/rsa.key" -out "$tmp/rsa.pem" -days 60 \
	-subj "/CN=mx.bench.example" 2>/dev/null
chmod 644 "$tmp"/*.key
cat "$tmp/ec.pem" "$tmp/ec.key" >"$tmp/ec-combined.pem"

smtp-sink -u nobody 127.0.0.1:$sink 1024 &
pids+=($!)
python3 "$src/tests/bench/blob.py" serve $blob "$blob_size" &
pids+=($!)

cat >"$tmp/proxy.conf" <<EOF
hostname = "mx.bench.example";
user = "nobody";
limits = { max_per_client = 100000; max_sessions = 200000; };
tls = ( { name = "ec"; cert = "$tmp/ec.pem"; key = "$tmp/ec.key"; },
        { name = "rsa"; cert = "$tmp/rsa.pem"; key = "$tmp/rsa.key"; } );
listeners = ( { listen = "127.0.0.1:$me_ec"; tls = "implicit"; tls_profile = "ec"; pregreet = "ignore"; },
              { listen = "127.0.0.1:$me_rsa"; tls = "implicit"; tls_profile = "rsa"; pregreet = "ignore"; },
              { listen = "127.0.0.1:$me_imap"; protocol = "tcp"; tls_profile = "ec"; pool = "blob"; } );
pools = ( { name = "sink"; members = ( "127.0.0.1:$sink" ); },
          { name = "blob"; check = "connect"; members = ( "127.0.0.1:$blob" ); } );
EOF
"$proxy" -q -c "$tmp/proxy.conf" &
me_pid=$!
pids+=($me_pid)

mkdir -p "$tmp/nginx"
cat >"$tmp/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_mail_module.so;
user nobody nogroup;
worker_processes auto;
pid $tmp/nginx.pid;
error_log $tmp/nginx/error.log error;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx;
    proxy_temp_path $tmp/nginx;
    fastcgi_temp_path $tmp/nginx;
    uwsgi_temp_path $tmp/nginx;
    scgi_temp_path $tmp/nginx;
    server {
        listen 127.0.0.1:$((base + 8));
        location /auth { add_header Auth-Status OK; add_header Auth-Server 127.0.0.1;
                         add_header Auth-Port $sink; return 200; }
    }
}
mail {
    server_name mx.bench.example;
    auth_http 127.0.0.1:$((base + 8))/auth;
    smtp_auth none;
    xclient off;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:MAIL:10m;
    ssl_session_tickets on;
    server { listen 127.0.0.1:$ng_ec ssl; protocol smtp;
             ssl_certificate $tmp/ec.pem; ssl_certificate_key $tmp/ec.key; }
    server { listen 127.0.0.1:$ng_rsa ssl; protocol smtp;
             ssl_certificate $tmp/rsa.pem; ssl_certificate_key $tmp/rsa.key; }
}
EOF
nginx -c "$tmp/nginx.conf" -g 'daemon off;' &
ng_pid=$!
pids+=($ng_pid)

cat >"$tmp/haproxy.cfg" <<EOF
global
    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 1m
    timeout server 1m
frontend imaps
    bind 127.0.0.1:$ha_imap ssl crt $tmp/ec-combined.pem ssl-min-ver TLSv1.2
    default_backend blob
backend blob
    server b1 127.0.0.1:$blob
EOF
haproxy -q -f "$tmp/haproxy.cfg" &
pids+=($!)

wait_port $me_ec mailedge-proxy
wait_port $ng_ec nginx
wait_port $ha_imap haproxy
wait_port $blob blob.py
sleep 0.5


# One s_time run is a few seconds on a shared VM: rounds alternate the two
# servers and the medians are compared, with the spread shown.
declare -A per_core
hs_run() { # label server-pid port args...
	local label=$1 pid=$2 port=$3 t0 t1 out n v
	shift 3
	t0=$(ticks "$pid")
	out=$(openssl s_time -connect "127.0.0.1:$port" -time "$secs" "$@" 2>&1 | tail -2 | head -1)
	t1=$(ticks "$pid")
	n=$(echo "$out" | awk '{print $1}')
	v=$(echo "$n * $hz / ($t1 - $t0 + 0.0001)" | bc -l)
	per_core[$label]+="$v "
	printf '  %-32s %7d in %ss: %6.0f /s wall, %7.0f per server core-second\n' \
		"$label" "$n" "$secs" "$(echo "$n / $secs" | bc -l)" "$v"
}
median() { # values...
	printf '%s\n' "$@" | sort -g |
		awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
spread() { # values... -> "min-max"
	printf '%s\n' "$@" | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.0f-%.0f", lo, hi}'
}

labels=()
echo "== TLS handshakes: s_time against an implicit-TLS SMTP listener, $rounds rounds of ${secs} s =="
for r in $(seq "$rounds"); do
	echo "round $r"
	for k in ec rsa; do
		mp=me_$k np=ng_$k
		for v in "TLS 1.3 full:-new -tls1_3" "TLS 1.2 full:-new -tls1_2" \
			"TLS 1.2 resumed:-reuse -tls1_2"; do
			# shellcheck disable=SC2086 # the s_time options are words
			hs_run "mailedge $k ${v%%:*}" $me_pid ${!mp} ${v#*:}
			# shellcheck disable=SC2086
			hs_run "nginx    $k ${v%%:*}" $ng_pid ${!np} ${v#*:}
			[ "$r" = 1 ] && labels+=("mailedge $k ${v%%:*}" "nginx    $k ${v%%:*}")
		done
	done
done
echo
echo "median of $rounds rounds              per server core-second (spread)    ms CPU each"
declare -A med
for l in "${labels[@]}"; do
	# shellcheck disable=SC2086 # one value per word
	med[$l]=$(median ${per_core[$l]})
	# shellcheck disable=SC2086
	printf '%-34s %9.0f  (%s)  %17.3f\n' "$l" "${med[$l]}" "$(spread ${per_core[$l]})" \
		"$(echo "1000 / ${med[$l]}" | bc -l)"
done

# The crypto one full handshake needs on the server: one signature with the
# certificate's key and one X25519 exchange (a key generated, a secret derived).
speed=$(openssl speed -seconds 2 ecdsap256 rsa2048 ecdhx25519 2>/dev/null)
ec_sign=$(echo "$speed" | awk '/256 bits ecdsa \(nistp256\)/{print $(NF-1); exit}')
rsa_sign=$(echo "$speed" | awk '/^rsa 2048 bits/{print $(NF-1); exit}')
x25519=$(echo "$speed" | awk '/253 bits ecdh \(X25519\)/{print $NF; exit}')
echo
echo "openssl speed, one core: ECDSA P-256 sign $ec_sign/s, RSA 2048 sign $rsa_sign/s," \
	"X25519 $x25519 ops/s"

echo
echo "== IMAP offload: $blob_count blobs of $blob_size B over 4 connections, blob.py behind each =="
declare -A mbps
bulk_run() { # label port [--tls]
	local out v
	out=$(python3 "$src/tests/bench/blob.py" fetch "$2" "$blob_count" 4 ${3:-})
	v=${out##*mbps=}
	mbps[$1]+="$v "
	printf '  %-32s %8.1f MB/s  (%s)\n' "$1" "$v" "$out"
}
for r in $(seq "$rounds"); do
	echo "round $r"
	bulk_run "direct (plaintext)" $blob
	bulk_run "mailedge tcp+TLS" $me_imap --tls
	bulk_run "haproxy tcp+TLS" $ha_imap --tls
done
echo "median of $rounds rounds"
for l in "direct (plaintext)" "mailedge tcp+TLS" "haproxy tcp+TLS"; do
	# shellcheck disable=SC2086
	med[$l]=$(median ${mbps[$l]})
	# shellcheck disable=SC2086
	printf '%-34s %8.1f MB/s  (spread %s)\n' "$l" "${med[$l]}" "$(spread ${mbps[$l]})"
done

echo
python3 - "${med[mailedge ec TLS 1.3 full]}" "${med[nginx    ec TLS 1.3 full]}" \
	"${med[mailedge rsa TLS 1.3 full]}" "${med[nginx    rsa TLS 1.3 full]}" \
	"${med[mailedge ec TLS 1.2 resumed]}" "${med[nginx    ec TLS 1.2 resumed]}" \
	"$ec_sign" "$rsa_sign" "$x25519" \
	"${med[mailedge tcp+TLS]}" "${med[haproxy tcp+TLS]}" "${med[direct (plaintext)]}" <<'EOF'
import sys
me_ec, ng_ec, me_rsa, ng_rsa, me_res, ng_res, ec_sign, rsa_sign, x, m_bulk, h_bulk, d_bulk = \
    map(float, sys.argv[1:])
bound_ec = 1 / (1 / ec_sign + 2 / x)
bound_rsa = 1 / (1 / rsa_sign + 2 / x)
print("ratios (same run, medians): full TLS 1.3 handshakes per server core-second: mailedge %.2fx nginx "
      "(ECDSA), %.2fx (RSA)" % (me_ec / ng_ec, me_rsa / ng_rsa))
print("  against the crypto alone (openssl speed: sign + X25519): mailedge %.0f%% (ECDSA), "
      "%.0f%% (RSA) of %.0f and %.0f per core-second"
      % (100 * me_ec / bound_ec, 100 * me_rsa / bound_rsa, bound_ec, bound_rsa))
print("  resumed (TLS 1.2 ticket): mailedge %.2fx nginx per server core-second" % (me_res / ng_res))
print("  IMAP offload: mailedge %.2fx haproxy's throughput, %.2fx plaintext direct"
      % (m_bulk / h_bulk, m_bulk / d_bulk))
EOF
