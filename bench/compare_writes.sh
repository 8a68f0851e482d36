#!/usr/bin/env bash
# Write throughput: quiver-bench's `put` workload (one user's whole profile
# row per request, 50 connections) against quiverd in each durability mode,
# and against Redis `SET` of the same values with appendfsync always and
# everysec, in one run.
#   bench/compare_writes.sh [quiver-bench flags...]   e.g. --duration 5
# Env: BUILD (default build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
port=7092
redis_port=6392
. bench/common.sh
bench_need server/quiverd client/quiver bench/quiver-bench
bench_banner
for mode in sync async none; do
  rm -rf "$work/q" "$work/port"
  "$build/server/quiverd" --port "$port" --resp-port off --http-port off --port-file "$work/port" --data-dir "$work/q" \
    --durability "$mode" --log-level warn &
  qpid=$!
  while [ ! -s "$work/port" ]; do sleep 0.01; done
  "$build/client/quiver" --port "$port" apply examples/features.yaml >/dev/null
  echo "# quiverd --durability $mode"
  "$build/bench/quiver-bench" --quiver "127.0.0.1:$port" --target quiver --workloads put "$@"
  kill "$qpid"; wait "$qpid" || true; qpid=
done
for fsync in always everysec; do
  rm -rf "$work/r"; mkdir -p "$work/r"
  redis-server --port "$redis_port" --dir "$work/r" --save "" --appendonly yes \
    --appendfsync "$fsync" --daemonize yes --logfile "$work/r/redis.log"
  until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.05; done
  echo "# redis-server --appendonly yes --appendfsync $fsync"
  "$build/bench/quiver-bench" --redis "127.0.0.1:$redis_port" --target redis --workloads put "$@"
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  sleep 0.5
done
