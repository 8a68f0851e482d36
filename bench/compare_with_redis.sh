#!/usr/bin/env bash
# Starts a Redis 7 (redis-server from Debian, no persistence) and a quiverd
# side by side on loopback, loads the reference data set into both, and runs
# quiver-bench's read paths against both in the same run.
#   bench/compare_with_redis.sh [quiver-bench flags...]
# e.g. bench/compare_with_redis.sh --scale 0.01 --duration 5
# Env: BUILD (default build/release), QUIVERD_THREADS (default: quiverd's),
#      TASKSET (e.g. "taskset -c 1" to pin both servers to one core),
#      PINNED=1 (per core: both servers on core 1, quiverd with one I/O
#      thread, quiver-bench on core 0; the same as TASKSET="taskset -c 1"
#      QUIVERD_THREADS=1 BENCH_TASKSET="taskset -c 0"),
#      BENCH_TASKSET (a prefix for quiver-bench, e.g. "taskset -c 0"),
#      THEN (a command run afterwards with both servers up and loaded, given
#      QUIVER_PORT and REDIS_PORT; e.g. THEN=bench/python_bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
redis_port=${REDIS_PORT:-6390}
quiver_port=${QUIVER_PORT:-7090}
if [ -n "${PINNED:-}" ]; then
  TASKSET=${TASKSET:-taskset -c 1}
  QUIVERD_THREADS=${QUIVERD_THREADS:-1}
  BENCH_TASKSET=${BENCH_TASKSET:-taskset -c 0}
fi
pin=${TASKSET:-}
. bench/common.sh
bench_need server/quiverd client/quiver bench/quiver-bench

$pin redis-server --port "$redis_port" --save "" --appendonly no --daemonize yes \
  --logfile "$work/redis.log" --dir "$work"
threads=()
[ -n "${QUIVERD_THREADS:-}" ] && threads=(--threads "$QUIVERD_THREADS")
$pin "$build/server/quiverd" --port "$quiver_port" --resp-port off --http-port off --data-dir "$work/quiver" --log-level warn \
  "${threads[@]}" &
qpid=$!
for _ in $(seq 1 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && "$build/client/quiver" --port "$quiver_port" ping \
    >/dev/null 2>&1 && break
  sleep 0.1
done
bench_banner
${BENCH_TASKSET:-} "$build/bench/quiver-bench" --quiver "127.0.0.1:$quiver_port" --redis "127.0.0.1:$redis_port" \
  --quiver-pid "$qpid" --load "$@"
if [ -n "${THEN:-}" ]; then
  QUIVER_PORT=$quiver_port REDIS_PORT=$redis_port BUILD=$build $THEN
fi
