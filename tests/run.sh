#!/usr/bin/env bash
# run.sh BUILD_DIR [criterion options] - run every test suite against the
# programs in BUILD_DIR (build/san for "make test": ASan+UBSan builds).
#
# One Criterion binary holds all suites (unit, BPF_PROG_RUN tables, loader CLI,
# namespace labs, fuzz regressions), so one summary line covers everything.
# Whatever a crashed test left behind (namespaces met*, pin directories
# /sys/fs/bpf/mailedge-test-*, daemons started on a test directory's
# configuration) is removed here on every exit path.
set -uo pipefail

build=${1:-build/san}
shift || true
src=$(cd "$(dirname "$0")/.." && pwd)
case $build in /*) ;; *) build=$src/$build ;; esac

pki= log=
sweep() {
	local ns
	[ -n "$pki" ] && rm -rf "$pki"
	[ -n "$log" ] && rm -f "$log"
	for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^met[0-9]/ {print $1}'); do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf /sys/fs/bpf/mailedge-test-* 2>/dev/null
	# A test killed outright (a Criterion timeout) cannot stop its daemons,
	# and PR_SET_PDEATHSIG does not reach a proxy that changed its user.
	pkill -KILL -f -- ' -c /tmp/mailedge-test-' 2>/dev/null
	return 0
}
trap sweep EXIT INT TERM

if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: the tests load BPF programs and create namespaces: run as root" >&2
	exit 1
fi
if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf || exit 1
fi
sweep

# One throwaway PKI for every TLS test of the run (tests/lib/mkpki.sh).
pki=$(mktemp -d /tmp/mailedge-test-pki-XXXXXX)
chmod 755 "$pki"
bash "$src/tests/lib/mkpki.sh" "$pki" || exit 1
export MAILEDGE_PKI=$pki
export MAILEDGE_BUILD=$build MAILEDGE_SRC=$src
# Leaks are errors; a sanitizer report fails the test that triggered it.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$src/tests/lsan.supp:print_suppressions=0

cd "$src" || exit 1
# The run's output is kept so that the failures can be named again after the
# summary: CI shows the end of a log, and a chatty test running last would
# otherwise hide which test failed.
log=$(mktemp /tmp/mailedge-test-log-XXXXXX)
"$build/mailedge-tests" --jobs "${TEST_JOBS:-2}" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
	echo "run.sh: the tests that failed, with what they said:"
	awk '/^\[----\]/ { buf = buf $0 "\n"; next }
	     /^\[FAIL\]/ { printf "%s%s\n", buf, $0 }
	     { buf = "" }' "$log"
fi
exit "$rc"
