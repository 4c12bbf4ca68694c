#!/usr/bin/env bash
# deps.sh - install (or check) every build and test dependency from Debian packages.
#
#   deps.sh install   apt-get update, then install everything
#   deps.sh ensure    install only if something is missing (what "make test" runs)
#   deps.sh list      print the package list
set -euo pipefail

PKGS=(
	# build
	make gcc libc6-dev clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev
	linux-libc-dev libjson-c-dev libcriterion-dev libclang-rt-14-dev libcurl4-openssl-dev
	libconfig-dev libev-dev libssl-dev openssl libc-ares-dev
	# tests, demo and benchmarks: namespaces, traffic, peers
	iproute2 ethtool util-linux procps hping3 nftables ipset xdp-tools python3 time bc
	# the proxy's peers: clients, backends, and the proxies it is measured against
	postfix swaks haproxy nginx-light libnginx-mod-mail testssl.sh
	# swaks --tls needs Net::SSLeay, only a Recommends of swaks
	libnet-ssleay-perl
	# real servers the proxy tests run behind it, and their clients: Dovecot
	# (IMAP/POP offload), unbound (a DNS zone on loopback), curl, dig
	dovecot-imapd dovecot-pop3d unbound curl bind9-dnsutils
	# packaging (make deb, make man, tests/test_package.c): debhelper, lintian, man
	# pages from scdoc, completion, unit checks with systemd-analyze, git for the copy
	debhelper dpkg-dev fakeroot lintian scdoc man-db adduser bash-completion systemd git
	# the metrics test: a real Prometheus (and promtool) scraping node
	# exporter's textfile collector and the proxy
	prometheus prometheus-node-exporter
)

# Packages whose service the tests run their own instances of: when this
# script is what installed them, their system service is not left enabled
# (a test machine must not grow a resolver or an IMAP server at its next boot).
SERVICES=(dovecot unbound unbound-resolvconf prometheus prometheus-node-exporter)

missing() {
	local p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			echo "$p"
	done
}

install() {
	export DEBIAN_FRONTEND=noninteractive
	echo "deps: installing ${*:-${PKGS[*]}}"
	# Postfix is installed for smtp-sink and smtp-source only: no mail system.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	# Packages must not start their daemons (nginx, haproxy, postfix) on the
	# machine: the tests run their own instances on their own ports.
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	local had_dovecot had_unbound had_prom had_promne s
	had_dovecot=$(dpkg-query -W -f='${Status}' dovecot-core 2>/dev/null || true)
	had_unbound=$(dpkg-query -W -f='${Status}' unbound 2>/dev/null || true)
	had_prom=$(dpkg-query -W -f='${Status}' prometheus 2>/dev/null || true)
	had_promne=$(dpkg-query -W -f='${Status}' prometheus-node-exporter 2>/dev/null || true)
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		for s in "${SERVICES[@]}"; do
			case $s in
			dovecot) [ "$had_dovecot" = "install ok installed" ] && continue ;;
			prometheus) [ "$had_prom" = "install ok installed" ] && continue ;;
			prometheus-node-exporter)
				[ "$had_promne" = "install ok installed" ] && continue ;;
			*) [ "$had_unbound" = "install ok installed" ] && continue ;;
			esac
			systemctl disable --now "$s" >/dev/null 2>&1 || true
		done
	fi
}

case "${1:-ensure}" in
install) install ;;
ensure)
	m=$(missing | tr '\n' ' ')
	if [ -n "$m" ]; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "deps: missing packages ($m); run 'sudo make deps'" >&2
			exit 1
		fi
		install $m
	fi
	;;
list) printf '%s\n' "${PKGS[@]}" ;;
*)
	echo "usage: $0 install|ensure|list" >&2
	exit 2
	;;
esac
