# Helpers for the daemon's host tests (sourced after lib.sh, not a test itself).
# Every daemon test config names only the host's virtio-rng function, found by id.

# A free loopback TCP port (the kernel picks it; a race with another process is unlikely).
free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# daemon_config FILE PORT RESULTS PLAN_JSON: writes a config with one or more plans.
daemon_config() {
	cat >"$1" <<EOC
{
  "results_dir": "$3",
  "retention": {"count": 50, "age": "1d"},
  "http": {"listen": "127.0.0.1:$2", "max_connections": 8},
  "textfile": "${TEXTFILE:-null}",
  "plans": [$4]
}
EOC
	# "null" must not be quoted
	sed -i 's/"textfile": "null"/"textfile": null/' "$1"
}

# rng_plan NAME ITERATIONS SCHEDULE_JSON [SELECTOR]: a plan on the rng function, by PCI address
# unless another selector of probebench run names it (e.g. its id, 1af4:1044).
rng_plan() {
	printf '{"name": "%s", "targets": ["%s"], "iterations": %s, "warmup": 0, "schedule": %s}' \
		"$1" "${4:-$RNG}" "$2" "$3"
}

# Starts the daemon in the background: $DPID, log in $WORK/daemon.log.
start_daemon() { # CONFIG
	"$PROBEBENCH" daemon --config "$1" --log stderr >>"$WORK/daemon.log" 2>&1 &
	DPID=$!
}

# Waits (bounded) until the HTTP API answers; fails if the daemon died.
wait_http() { # PORT
	for _ in $(seq 1 300); do
		curl -fsS -o /dev/null "http://127.0.0.1:$1/api/v1/status" 2>/dev/null && return 0
		kill -0 "$DPID" 2>/dev/null || { cat "$WORK/daemon.log" >&2; fail "daemon exited early"; }
		sleep 0.1
	done
	fail "HTTP API on port $1 never answered"
}

# Waits (bounded) until /api/v1/runs lists at least N runs (of PLAN, when given).
wait_runs() { # PORT N [PLAN]
	for _ in $(seq 1 600); do
		n=$(curl -fsS "http://127.0.0.1:$1/api/v1/runs" 2>/dev/null |
			"$PY" -c 'import json,sys; p=sys.argv[1]; print(sum(1 for r in json.load(sys.stdin)["runs"] if not p or r["plan"]==p))' "${3:-}" 2>/dev/null || echo 0)
		[ "$n" -ge "$2" ] && return 0
		kill -0 "$DPID" 2>/dev/null || { cat "$WORK/daemon.log" >&2; fail "daemon exited early"; }
		sleep 0.1
	done
	fail "fewer than $2 run(s) appeared"
}

# Waits (bounded) for the daemon to exit; its exit status in $RC.
wait_exit() { # PID
	for _ in $(seq 1 600); do
		if ! kill -0 "$1" 2>/dev/null; then
			RC=0
			wait "$1" || RC=$?
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	fail "daemon did not exit within 60s of SIGTERM"
}

# Is the rng function bound to virtio-pci with its virtio child bound to virtio_rng?
rng_bound() {
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$RNG/driver" 2>/dev/null)")" = virtio-pci ] || return 1
	c=$(rng_child "$RNG") || return 1
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$RNG/$c/driver" 2>/dev/null)")" = virtio_rng ]
}

# Puts the rng function back if anything left it unbound (only this function, by id).
rng_rebind() {
	rng_bound && return 0
	[ -e "/sys/bus/pci/devices/$RNG/driver" ] || echo "$RNG" >/sys/bus/pci/drivers/virtio-pci/bind 2>/dev/null || true
	for _ in $(seq 1 50); do rng_bound && return 0; sleep 0.1; done
	return 1
}

# Receives sd_notify datagrams on $NOTIFY_SOCKET into FILE, one message per line ("|"-joined).
notify_listen() { # SOCKET FILE
	"$PY" - "$1" "$2" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1.0)
deadline = time.time() + 300
with open(sys.argv[2], "a", buffering=1) as f:
    while time.time() < deadline:
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            continue
        f.write(m.replace("\n", "|") + "\n")
        if "STOPPING=1" in m.split("\n"):
            break
PYEOF
	NPID=$!
	for _ in $(seq 1 50); do [ -S "$1" ] && return 0; sleep 0.1; done
	fail "notify listener did not start"
}

daemon_cleanup() {
	rc=$?
	set +e
	[ -n "${DPID:-}" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "${NPID:-}" ] && kill "$NPID" 2>/dev/null
	if [ -n "${RNG:-}" ] && [ "$(id -u)" -eq 0 ] && ! rng_rebind; then
		echo "FAIL: $RNG could not be rebound after the test" >&2
		rc=1
	fi
	rm -rf "$WORK"
	exit "$rc"
}

daemon_test_setup() {
	need_root "the daemon's plans cycle the host's virtio-rng function"
	RNG=$(rng_bdf)
	WORK=$(mktemp -d /tmp/pb-daemon-test.XXXXXX)
	trap daemon_cleanup EXIT
	lock_rng
	rng_bound || fail "the rng function $RNG is not bound before the test"
}
