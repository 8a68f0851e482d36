#!/usr/bin/env bash
# The cost of feature statistics (quiverd --statistics) on the write and
# read paths: quiver-bench's `put` (one user's whole profile row per
# request: 4 fields, 32 floats) and `user` (reads) workloads against
# quiverd with statistics on and off, alternating for ROUNDS rounds so the
# VM's drift hits both alike, and against Redis (no persistence) in the
# same run as the reference. Throughput at pipeline 1 is mostly the
# network's; the CPU quiverd spends per put (its utime + stime over a fixed
# number of puts, PUTS, without warm-up) shows the cost itself.
#   bench/stats_cost.sh [quiver-bench flags...]   e.g. --duration 5
# Env: BUILD (default build/release), ROUNDS (default 2), SCALE (data set
# size for the reads, default 0.1 = 200,000 users), DURABILITY (default
# none: no WAL, so the CPU cost shows), PUTS (default 300000).
set -euo pipefail
cd "$(dirname "$0")/.."
port=7093
redis_port=6393
rounds=${ROUNDS:-2}
scale=${SCALE:-0.1}
puts=${PUTS:-300000}
. bench/common.sh
bench_need server/quiverd client/quiver bench/quiver-bench
# quiverd's CPU time so far, in clock ticks (utime + stime).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$qpid/stat"; }
bench_banner ", durability ${DURABILITY:-none}"
for round in $(seq "$rounds"); do
  for stats in true false; do
    rm -rf "$work/q" "$work/port"
    "$build/server/quiverd" --port "$port" --resp-port off --http-port off --port-file "$work/port" \
      --data-dir "$work/q" --durability "${DURABILITY:-none}" --statistics "$stats" \
      --log-level warn &
    qpid=$!
    while [ ! -s "$work/port" ]; do sleep 0.01; done
    "$build/client/quiver" --port "$port" apply examples/features.yaml >/dev/null
    echo "# round $round: quiverd --statistics $stats"
    "$build/bench/quiver-bench" --quiver "127.0.0.1:$port" --target quiver --load-only \
      --scale "$scale" >/dev/null
    before=$(cpu_ticks)
    "$build/bench/quiver-bench" --quiver "127.0.0.1:$port" --target quiver --workloads put \
      --scale "$scale" --warmup 0 --requests "$puts" --duration 600 | tail -1
    after=$(cpu_ticks)
    echo "quiverd CPU per put: $(( (after - before) * 1000000 / $(getconf CLK_TCK) / (puts / 1000) )) ns"
    "$build/bench/quiver-bench" --quiver "127.0.0.1:$port" --target quiver --workloads put,user \
      --scale "$scale" "$@" | tail -2
    kill "$qpid"; wait "$qpid" || true; qpid=
  done
done
redis-server --port "$redis_port" --save "" --appendonly no --daemonize yes \
  --logfile "$work/redis.log"
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.05; done
echo "# redis-server (no persistence)"
rpid=$(redis-cli -p "$redis_port" info server | awk -F: '/^process_id/ {print $2}' | tr -d '\r')
"$build/bench/quiver-bench" --redis "127.0.0.1:$redis_port" --target redis --load-only \
  --scale "$scale" >/dev/null
before=$(awk '{print $14 + $15}' "/proc/$rpid/stat")
"$build/bench/quiver-bench" --redis "127.0.0.1:$redis_port" --target redis --workloads put \
  --scale "$scale" --warmup 0 --requests "$puts" --duration 600 | tail -1
after=$(awk '{print $14 + $15}' "/proc/$rpid/stat")
echo "redis-server CPU per SET: $(( (after - before) * 1000000 / $(getconf CLK_TCK) / (puts / 1000) )) ns"
"$build/bench/quiver-bench" --redis "127.0.0.1:$redis_port" --target redis --workloads put,user \
  --scale "$scale" "$@" | tail -2
