#!/usr/bin/env bash
# run.sh BUILD_DIR - "make bench": every benchmark, with the machine it ran on,
# printed and written to bench-results/bench-<host>-<time>.txt.
#
# Figures are only comparable within one run: each part measures mailedge and
# its named peer back to back on the same machine.
set -euo pipefail

build=${1:-build/rel}
src=$(cd "$(dirname "$0")/../.." && pwd)
case $build in /*) ;; *) build=$src/$build ;; esac
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (BPF, namespaces)" >&2
	exit 1
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir -p "$src/bench-results"
out=$src/bench-results/bench-$(hostname -s)-$(date +%Y%m%d-%H%M%S).txt

{
	echo "mailedge benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(hostname -s), kernel $(uname -r), $(nproc) CPUs:" \
		"$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)," \
		"$(awk '/MemTotal/{printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
	echo "commit: $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo
	bash "$src/tests/bench/xdp.sh" "$build"
	echo
	bash "$src/tests/bench/listsync.sh" "$build"
	echo
	bash "$src/tests/bench/proxy.sh" "$build"
	echo
	bash "$src/tests/bench/policy.sh" "$build"
	echo
	bash "$src/tests/bench/tls.sh" "$build"
} 2>&1 | tee "$out"
echo "written to $out"
