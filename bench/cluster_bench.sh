#!/usr/bin/env bash
# Writes through a cluster's changelog (docs/cluster.md), beside one server
# and Redis with a replica, in one run:
#   1. quiver-bench's `put` workload (one whole profile row per request,
#      50 connections) against member 1 of 3 quiverd members replicating
#      through librdkafka's mock Kafka cluster (3 brokers, 16 partitions);
#      meanwhile members 2 and 3's lag (INFO replication's cluster_lag) is
#      sampled every 50 ms;
#   2. the same workload against one quiverd with --durability sync;
#   3. `put` against Redis (SET) with --appendfsync always and a replica
#      (--replicaof), and redis-benchmark INCR there (WAIT is not measured:
#      redis-benchmark cannot pair it with each write);
#   4. redis-benchmark INCR (50 clients) against the cluster member and
#      against the single quiverd.
#   bench/cluster_bench.sh [quiver-bench flags...]   e.g. --duration 5
# Env: BUILD (default build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
redis_port=6393
replica_port=6394
. bench/common.sh
bench_need server/quiverd client/quiver bench/quiver-bench tests/quiver_kafka_mock
mock_in=""
bench_cleanup_extra() {
  for pid in ${members:-}; do kill "$pid" 2>/dev/null || true; done
  for pid in ${members:-}; do wait "$pid" 2>/dev/null || true; done
  redis-cli -p "$replica_port" shutdown nosave >/dev/null 2>&1 || true
  [ -n "$mock_in" ] && exec 7>&- || true
}
bench_banner ", cluster of 3 on the mock Kafka (3 brokers)"

start_member() {  # start_member N [flags...]: quiverd N's ports in $work/ports.N
  local n=$1; shift
  "$build/server/quiverd" --port 0 --resp-port 0 --http-port off --port-file "$work/ports.$n" \
    --data-dir "$work/m$n" --log-level warn "$@" &
  members="${members:-} $!"
  while [ ! -s "$work/ports.$n" ]; do sleep 0.01; done
}
port_of() { sed -n "${2}p" "$work/ports.$1"; }  # port_of N LINE (1 native, 2 RESP)

# The mock Kafka cluster: its stdin stays open on fd 7 until the end.
mkfifo "$work/mock.in"
"$build/tests/quiver_kafka_mock" --brokers 3 --topic quiver-changelog:16 <"$work/mock.in" \
  >"$work/mock.out" &
exec 7>"$work/mock.in"
mock_in=1
until [ -s "$work/mock.out" ]; do sleep 0.01; done
brokers=$(head -1 "$work/mock.out")
for n in 1 2 3; do
  # The mock broker holds a fetch for all of fetch.wait.max.ms even when
  # data arrives (a real broker answers at once, fetch.min.bytes being 1):
  # 1 ms here stands for a real broker's prompt answer.
  start_member "$n" --kafka-brokers "$brokers" --cluster-topic quiver-changelog --replica-id "m$n" \
    --kafka-config fetch.wait.max.ms=1
done
"$build/client/quiver" --port "$(port_of 1 1)" apply examples/features.yaml >/dev/null

sample_lag() {  # until killed: the summed lag of members 2 and 3, every 50 ms
  while true; do
    for n in 2 3; do
      redis-cli -p "$(port_of "$n" 2)" info replication | tr -d '\r' | sed -n 's/^cluster_lag://p'
    done
    sleep 0.05
  done
}
echo "# cluster member 1 of 3 (writes through the changelog)"
sample_lag >"$work/lag" &
sampler=$!
"$build/bench/quiver-bench" --quiver "127.0.0.1:$(port_of 1 1)" --target quiver --workloads put "$@"
kill "$sampler"; wait "$sampler" 2>/dev/null || true
sort -n "$work/lag" | awk '{v[NR]=$1} END {if (NR) printf "replication lag of members 2 and 3 (records, %d samples): p50 %d, p99 %d, max %d\n", NR, v[int(NR*0.5)+1], v[int(NR*0.99)+1], v[NR]}'
echo "# redis-benchmark INCR, 50 clients, through the changelog"
redis-benchmark -p "$(port_of 1 2)" -c 50 -n 20000 -q -t incr | tr '\r' '\n' | grep 'per second'
echo "# redis-benchmark SET, 1 client, through the changelog (latency)"
redis-benchmark -p "$(port_of 1 2)" -c 1 -n 500 -q -t set | tr '\r' '\n' | grep 'per second'
for pid in $members; do kill "$pid"; wait "$pid" || true; done
members=""

start_member 9 --durability sync
"$build/client/quiver" --port "$(port_of 9 1)" apply examples/features.yaml >/dev/null
echo "# one quiverd --durability sync"
"$build/bench/quiver-bench" --quiver "127.0.0.1:$(port_of 9 1)" --target quiver --workloads put "$@"
echo "# redis-benchmark INCR, 50 clients, one quiverd --durability sync"
redis-benchmark -p "$(port_of 9 2)" -c 50 -n 20000 -q -t incr | tr '\r' '\n' | grep 'per second'
for pid in $members; do kill "$pid"; wait "$pid" || true; done
members=""

mkdir -p "$work/r" "$work/replica"
redis-server --port "$redis_port" --dir "$work/r" --save "" --appendonly yes \
  --appendfsync always --daemonize yes --logfile "$work/r/redis.log"
redis-server --port "$replica_port" --dir "$work/replica" --save "" --appendonly yes \
  --appendfsync always --replicaof 127.0.0.1 "$redis_port" --daemonize yes \
  --logfile "$work/replica/redis.log"
until redis-cli -p "$replica_port" info replication | grep -q 'master_link_status:up'; do
  sleep 0.05
done
echo "# redis-server --appendfsync always with one replica (--replicaof)"
"$build/bench/quiver-bench" --redis "127.0.0.1:$redis_port" --target redis --workloads put "$@"
echo "# redis-benchmark INCR, 50 clients, Redis with one replica"
redis-benchmark -p "$redis_port" -c 50 -n 20000 -q -t incr | tr '\r' '\n' | grep 'per second'
