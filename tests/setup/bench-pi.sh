#!/usr/bin/env bash
# The Raspberry-Pi-sized bench (issue #20): the whole of `make bench` (server and load
# generator) inside a 256 MB memory limit and on one core, as a Pi 3 family server lives.
# Uses a cgroup (v2 via systemd-run when systemd runs, else a cgroup v1 memory group) and
# `taskset -c 0`. Prints the bench figures, then whether the kernel OOM-killed anything.
set -euo pipefail
cd "$(dirname "$0")/../.."
LIMIT=${PI_MEMORY:-256M}
BENCH=${BENCH:-./target/release/mailnook-bench}
export BENCH_WEBMAIL=0  # Chromium is the client's memory, not the server's
if systemctl is-system-running >/dev/null 2>&1; then
  exec systemd-run --scope -q -p MemoryMax="$LIMIT" -p MemorySwapMax=0 taskset -c 0 "$BENCH"
fi
CG=/sys/fs/cgroup/memory/mailnook-pi-$$
mkdir "$CG"
trap 'rmdir "$CG" 2>/dev/null || true' EXIT
bytes=$(numfmt --from=iec "$LIMIT")
echo "$bytes" > "$CG/memory.limit_in_bytes"
echo "$bytes" > "$CG/memory.memsw.limit_in_bytes" 2>/dev/null || true
status=0
( echo $BASHPID > "$CG/cgroup.procs"; exec taskset -c 0 "$BENCH" ) || status=$?
echo "== Pi-sized run: memory limit $LIMIT, one core (taskset -c 0)"
echo "   peak memory of the group: $(( $(cat "$CG/memory.max_usage_in_bytes") / 1048576 )) MiB"
echo "   times the limit was hit: $(cat "$CG/memory.failcnt")"
grep -E "oom_kill " "$CG/memory.oom_control" | sed 's/^/   OOM kills: /' || true
exit $status
