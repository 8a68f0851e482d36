#!/usr/bin/env bash
# Write throughput: quiver-bench's `put` workload (one user's whole profile
# row per request, 50 connections) against quiverd in each durability mode,
# and against Redis `SET` of the same values with appendfsync always and
# everysec and without AOF, in one run; each row with the server's CPU per
# request.
#   bench/compare_writes.sh [quiver-bench flags...]   e.g. --duration 5
# Env: BUILD (default build/release); PINNED=1: per core (the servers on
#      core 1, quiverd with one I/O thread, quiver-bench on core 0).
set -euo pipefail
cd "$(dirname "$0")/.."
port=7092
redis_port=6392
. bench/common.sh
bench_need server/quiverd client/quiver bench/quiver-bench
bench_banner
server_pin=() bench_pin=() threads=()
if [ -n "${PINNED:-}" ]; then
  server_pin=(taskset -c 1) bench_pin=(taskset -c 0) threads=(--threads 1)
fi
for mode in sync async none memory; do
  rm -rf "$work/q" "$work/port"
  "${server_pin[@]}" "$build/server/quiverd" --port "$port" --resp-port off --http-port off --port-file "$work/port" --data-dir "$work/q" \
    --durability "$mode" --log-level warn "${threads[@]}" &
  qpid=$!
  while [ ! -s "$work/port" ]; do sleep 0.01; done
  "$build/client/quiver" --port "$port" apply examples/features.yaml >/dev/null
  echo "# quiverd --durability $mode"
  "${bench_pin[@]}" "$build/bench/quiver-bench" --quiver "127.0.0.1:$port" --quiver-pid "$qpid" \
    --target quiver --workloads put "$@"
  kill "$qpid"; wait "$qpid" || true; qpid=
done
for fsync in always everysec off; do
  rm -rf "$work/r"; mkdir -p "$work/r"
  aof=(--appendonly yes --appendfsync "$fsync")
  [ "$fsync" = off ] && aof=(--appendonly no)
  "${server_pin[@]}" redis-server --port "$redis_port" --dir "$work/r" --save "" "${aof[@]}" \
    --daemonize yes --logfile "$work/r/redis.log"
  until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.05; done
  echo "# redis-server ${aof[*]}"
  "${bench_pin[@]}" "$build/bench/quiver-bench" --redis "127.0.0.1:$redis_port" --target redis --workloads put "$@"
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  sleep 0.5
done
