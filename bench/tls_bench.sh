#!/usr/bin/env bash
# The cost of TLS on the native `user` read: one quiverd with a plain native
# port and a TLS one (mutual TLS, certificates made here by openssl), the
# reference data set loaded once, then quiver-bench's `user` workload on
# each port in turn, alternated ROUNDS times (the machine's speed drifts).
# Prints requests/s, p99 and quiverd's CPU time per request (from
# /proc/PID/stat over the run; the warmup's requests count too, the load
# being steady). quiverd is pinned to core 0 with one I/O thread,
# quiver-bench to core 1.
#   bench/tls_bench.sh [quiver-bench flags...]     e.g. --scale 0.1 -c 50
# Env: BUILD (default build/release), ROUNDS (default 2), DURATION (default
# 8 s measured), WARMUP (default 2 s).
set -euo pipefail
cd "$(dirname "$0")/.."
plain_port=7094
tls_port=7095
. bench/common.sh
bench_need server/quiverd client/quiver bench/quiver-bench
bench_tls
d=$work/certs
duration=${DURATION:-8}
warmup=${WARMUP:-2}

taskset -c 0 "$build/server/quiverd" --port "$plain_port" --tls-native-port "$tls_port" \
  --tls-cert-file "$d/server.crt" --tls-key-file "$d/server.key" --tls-ca-cert-file "$d/ca.crt" \
  --resp-port off --http-port off --threads 1 --data-dir "$work/quiver" --log-level warn &
qpid=$!
for _ in $(seq 1 100); do
  "$build/client/quiver" --port "$plain_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
bench_banner ", quiverd pinned to core 0 (1 I/O thread), quiver-bench to core 1"
"$build/bench/quiver-bench" --target quiver --quiver "127.0.0.1:$plain_port" --load-only "$@" \
  >/dev/null 2>&1

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tick_ns=$((1000000000 / $(getconf CLK_TCK)))
printf '%-6s %12s %10s %14s\n' port "req/s" "p99 us" "CPU ns/req"
for _ in $(seq 1 "${ROUNDS:-2}"); do
  for port in plain tls; do
    args=(--quiver "127.0.0.1:$plain_port")
    [ "$port" = tls ] && args=(--quiver "127.0.0.1:$tls_port" --tls-ca "$d/ca.crt"
      --tls-cert "$d/client.crt" --tls-key "$d/client.key")
    before=$(cpu_ticks "$qpid")
    out=$(taskset -c 1 "$build/bench/quiver-bench" --target quiver --workloads user \
      --duration "$duration" --warmup "$warmup" "${args[@]}" "$@")
    after=$(cpu_ticks "$qpid")
    # quiver-bench's row: load target conns pipe req/s p50 p90 p99 p999 max errors
    echo "$out" | awk -v port="$port" -v cpu=$(((after - before) * tick_ns)) \
      -v seconds=$((duration + warmup)) '
      $1 == "user" && $2 == "quiver" {
        printf "%-6s %12.0f %10.1f %14.0f\n", port, $5, $8, cpu / ($5 * seconds)
      }'
  done
done
