#!/usr/bin/env bash
# The Python `rank` comparison, on servers compare_with_redis.sh started and loaded:
#   THEN=bench/python_bench.sh bench/compare_with_redis.sh --load-only
set -euo pipefail
PYTHONPATH="${BUILD:-build/release}/python" /usr/bin/python3 bench/python_bench.py \
  --quiver-port "$QUIVER_PORT" --redis-port "$REDIS_PORT" "$@"
