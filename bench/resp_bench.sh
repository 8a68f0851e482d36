#!/usr/bin/env bash
# redis-benchmark (one client binary, one run) against Redis 7 and against
# quiverd's RESP port: -c 50, with -P 1 and -P 16; once with each server
# pinned to one core (quiverd with one I/O thread; the client on another
# core) and once unpinned. Prints requests/s side by side and the ratio.
#   bench/resp_bench.sh [-n REQUESTS] [-N PIPELINED_REQUESTS] [-t TESTS]
# -N (default 10 x -n) is the request count with -P 16: pipelined runs of
# 200,000 requests last a fraction of a second and measure mostly the
# connection set-up.
# Mode "cpu" measures each server's CPU time per request instead (pinned,
# -P 16): the per-core cost, steadier than throughput on a shared VM. The
# test "evalsha" (cpu mode only) runs EVALSHA of a one-SET script.
# redis-benchmark's whole default set, per core:
#   MODES=cpu bench/resp_bench.sh -t ping_inline,ping_mbulk,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_300,lrange_500,lrange_600,mset,evalsha
# Mode "durable" compares writes kept on disk, unpinned: Redis with
# appendonly yes, appendfsync always against quiverd --durability sync,
# then appendfsync everysec against --durability async.
# Env: BUILD (default build/release), MODES (default "pinned unpinned cpu";
# add "durable" for the disk), TLS=1 (both servers over TLS, with mutual
# TLS: redis-server --tls-port against quiverd --tls-port).
set -euo pipefail
cd "$(dirname "$0")/.."
requests=200000
pipelined_requests=
tests=get,set,incr,mset,hset,lpush,lrange_100
while [ $# -gt 0 ]; do
  case $1 in
    -n) requests=$2; shift 2 ;;
    -N) pipelined_requests=$2; shift 2 ;;
    -t) tests=$2; shift 2 ;;
    *) echo "usage: $0 [-n REQUESTS] [-N PIPELINED_REQUESTS] [-t TESTS]" >&2; exit 2 ;;
  esac
done
pipelined_requests=${pipelined_requests:-$((requests * 10))}
redis_port=6391
quiver_port=6392
redis_persistence=(--appendonly no)
quiver_durability=memory
with_mget=1
. bench/common.sh
bench_need server/quiverd


stop_servers() {
  redis-cli "${tls_client[@]}" -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  kill "$qpid" && wait "$qpid" 2>/dev/null || true
  qpid=
}

# One redis-benchmark run; prints "test rps" lines.
run() {  # run PORT PIPELINE CLIENT_PREFIX...
  local port=$1 pipeline=$2 n=$requests
  shift 2
  [ "$pipeline" -gt 1 ] && n=$pipelined_requests
  "$@" redis-benchmark "${tls_client[@]}" -p "$port" -c 50 -n "$n" -P "$pipeline" -r 100000 -t "$tests" \
    --csv 2>/dev/null | tail -n +2 | tr -d '"' | awk -F, '{gsub(/ /, "_", $1); print $1, $2}'
  [ "$with_mget" = 1 ] || return 0
  # MGET of 10 keys, as a custom command (not one of redis-benchmark's -t tests).
  "$@" redis-benchmark "${tls_client[@]}" -p "$port" -c 50 -n "$n" -P "$pipeline" -r 100000 --csv \
    MGET key:__rand_int__ key:__rand_int__ key:__rand_int__ key:__rand_int__ \
    key:__rand_int__ key:__rand_int__ key:__rand_int__ key:__rand_int__ key:__rand_int__ \
    key:__rand_int__ 2>/dev/null | tail -n +2 | tr -d '"' | awk -F, '{print "MGET(10)", $2}'
}

# CPU time (all threads, user + system) a process has used, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Server CPU per request, pinned, -P 16, one test at a time: the per-core
# cost, steadier on a shared VM than throughput. Prints "test ns ns".
cpu_per_request() {
  local redis_pid tick_ns=$((1000000000 / $(getconf CLK_TCK)))
  redis_pid=$(redis-cli "${tls_client[@]}" -p "$redis_port" info server | tr -d '\r' | awk -F: '/^process_id/ {print $2}')
  for t in ${tests//,/ }; do
    local line=$t
    for target in "$redis_port:$redis_pid" "$quiver_port:$qpid"; do
      local before after
      before=$(cpu_ticks "${target#*:}")
      if [ "$t" = evalsha ]; then  # a small script, loaded on both servers first
        local sha
        sha=$(redis-cli "${tls_client[@]}" -p "${target%%:*}" script load "return redis.call('set', KEYS[1], 'v')")
        taskset -c 1 redis-benchmark "${tls_client[@]}" -p "${target%%:*}" -c 50 -n "$pipelined_requests" -P 16 \
          -r 100000 -q EVALSHA "$sha" 1 key:__rand_int__ >/dev/null
      else
        taskset -c 1 redis-benchmark "${tls_client[@]}" -p "${target%%:*}" -c 50 -n "$pipelined_requests" -P 16 \
          -r 100000 -t "$t" -q >/dev/null
      fi
      after=$(cpu_ticks "${target#*:}")
      line="$line $(((after - before) * tick_ns / pipelined_requests))"
    done
    echo "$line"
  done
}

# Both servers, one after the other, with -P 1 and -P 16: requests/s side
# by side.
compare() {  # compare TITLE CLIENT_PREFIX...
  local title=$1
  shift
  for pipeline in 1 16; do
    echo
    echo "$title, -P $pipeline"
    printf '%-12s %12s %12s %8s\n' test redis quiver ratio
    # One server at a time: the two runs must not share the cores.
    run "$redis_port" "$pipeline" "$@" | sort >"$work/redis.rps"
    run "$quiver_port" "$pipeline" "$@" | sort >"$work/quiver.rps"
    join "$work/redis.rps" "$work/quiver.rps" |
      awk '{printf "%-12s %12.0f %12.0f %7.2fx\n", $1, $2, $3, $3 / $2}'
  done
}

# Writes kept on disk: each Redis fsync policy against its quiver match.
durable() {
  local saved_tests=$tests
  tests=set,incr,hset,lpush
  with_mget=0
  for pair in always:sync everysec:async; do
    redis_persistence=(--appendonly yes --appendfsync "${pair%%:*}")
    quiver_durability=${pair#*:}
    bench_start_resp_servers
    compare "durable (redis appendfsync ${pair%%:*}, quiver --durability ${pair#*:})"
    stop_servers
  done
  redis_persistence=(--appendonly no)
  quiver_durability=memory
  with_mget=1
  tests=$saved_tests
}

tls_note=
if [ "${TLS:-0}" = 1 ]; then
  bench_tls
  tls_note=", over TLS"
fi
bench_banner ", -c 50 -n $requests (-P 16: -n $pipelined_requests) -r 100000$tls_note"
for mode in ${MODES:-pinned unpinned cpu}; do
  if [ "$mode" = durable ]; then
    durable
    continue
  fi
  if [ "$mode" = cpu ]; then
    bench_start_resp_servers taskset -c 0
    echo
    echo "server CPU per request (ns), pinned, -P 16"
    printf '%-12s %12s %12s %8s\n' test redis quiver "redis/quiver"
    cpu_per_request | awk '{printf "%-12s %12d %12d %7.2fx\n", toupper($1), $2, $3, $2 / $3}'
    stop_servers
    continue
  fi
  server_pin=() client_pin=()
  if [ "$mode" = pinned ]; then
    server_pin=(taskset -c 0)
    client_pin=(taskset -c 1)
  fi
  bench_start_resp_servers "${server_pin[@]}"
  compare "$mode" "${client_pin[@]}"
  stop_servers
done
