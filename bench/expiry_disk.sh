#!/usr/bin/env bash
# Expired RESP keys leave the disk (issue 25): redis-benchmark writes
# `SET key:<random> <64-byte value> EX 1` over a key space of 10^9 keys
# (nearly every key new) for ROUNDS rounds; after each, the data
# directory's size, the keys in memory and the keys expired so far. With
# expired keys deleted from RocksDB as the sweep removes them, the
# directory stays flat once compactions catch up, instead of growing with
# every key ever written.
#   bench/expiry_disk.sh [-r ROUNDS] [-n REQUESTS_PER_ROUND]
# Env: BUILD (default build/release), DURABILITY (default async).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=10
requests=1000000
while [ $# -gt 0 ]; do
  case $1 in
    -r) rounds=$2; shift 2 ;;
    -n) requests=$2; shift 2 ;;
    *) echo "usage: $0 [-r ROUNDS] [-n REQUESTS_PER_ROUND]" >&2; exit 2 ;;
  esac
done
quiver_port=6393
. bench/common.sh
bench_need server/quiverd

"$build/server/quiverd" --port 0 --resp-port "$quiver_port" --http-port off \
  --durability "${DURABILITY:-async}" --data-dir "$work/data" --log-level warn &
qpid=$!
for _ in $(seq 1 100); do
  redis-cli -p "$quiver_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done

bench_banner ", SET EX 1 of new keys, $requests requests a round"
printf '%-6s %10s %12s %14s %12s\n' round seconds "data MiB" "keys in memory" expired
start=$(date +%s)
for round in $(seq 1 "$rounds"); do
  redis-benchmark -p "$quiver_port" -q -c 50 -P 16 -n "$requests" -r 1000000000 \
    SET key:__rand_int__ vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv EX 1 >/dev/null
  size=$(du -sm "$work/data" | cut -f1)
  keys=$(redis-cli -p "$quiver_port" dbsize)
  expired=$(redis-cli -p "$quiver_port" info stats | tr -d '\r' | awk -F: '$1=="expired_keys"{print $2}')
  printf '%-6s %10s %12s %14s %12s\n' "$round" "$(($(date +%s) - start))" "$size" "$keys" "$expired"
done
