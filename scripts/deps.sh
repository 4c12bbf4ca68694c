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
)

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
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
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
