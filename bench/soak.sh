#!/usr/bin/env bash
# The soak of issue 25 (bench/soak.py says what runs): 1,000 connections of
# mixed native, RESP and HTTP traffic against one quiverd for MINUTES
# minutes, with misbehaving clients alongside (half-open connections,
# clients that never read, huge declared lengths, floods past maxclients);
# per minute, RSS, request rates, p99s and errors by kind; at the end,
# after a restart, whether every acknowledged write is present.
#   bench/soak.sh [MINUTES]     (default 10)
# Env: BUILD (default build/release), SCALE (data set, default 0.05),
#      NATIVE, RESP, HTTP (connections, default 400, 400, 200).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
bench_need server/quiverd bench/quiver-bench
ulimit -n 65536 2>/dev/null || true  # quiverd, and this script's 1,600 sockets
bench_banner
/usr/bin/python3 bench/soak.py --build "$build" --work "$work" --minutes "${1:-10}" \
  --scale "${SCALE:-0.05}" --native "${NATIVE:-400}" --resp "${RESP:-400}" --http "${HTTP:-200}"
