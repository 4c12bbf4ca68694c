# lib.sh - what the proxy benchmarks share; sourced, after they set $tmp and
# pids=() (the processes they start, killed on exit with everything in $tmp).

bench_cleanup() {
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	pkill -f "nginx: .*$tmp" 2>/dev/null
	sleep 0.3
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$tmp"
}

# Until something listens on 127.0.0.1:PORT; a peer that failed to start
# stops the run here, named, rather than as a refused connection later.
wait_port() { # port name
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench: $2 is not listening on 127.0.0.1:$1 after 10 s" >&2
	exit 1
}

# CPU ticks (utime+stime) of a process and its children (nginx's workers).
ticks() { # pid
	local t=0 p
	for p in $1 $(pgrep -P "$1"); do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo $t
}
hz=$(getconf CLK_TCK)
