#!/usr/bin/env bash
# Single-key reads while a large training set runs (issue 25): the p99 of
# the `user` workload (one user's row per request) on CONNECTIONS
# connections, first alone, then while `quiver training-set` joins LABELS
# label rows over and over. Requests that may run long (a training
# request of 4,096 label rows or more, ...) run on quiverd's pool of long
# requests, so the I/O thread a reader shares with the training set's
# connection keeps answering it.
#   bench/long_request_bench.sh
# Env: BUILD (default build/release), SCALE (default 0.25), VERSIONS
#      (default 2), LABELS (default 1000000), CONNECTIONS (default 8),
#      DURATION (seconds per measurement, default 10), QUIVERD_FLAGS,
#      QUIVERD (the server to measure; default the build's, e.g. an older
#      build's to compare).
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${SCALE:-0.25}
versions=${VERSIONS:-2}
labels=${LABELS:-1000000}
port=7093
. bench/common.sh
bench_need server/quiverd client/quiver bench/quiver-bench

bench_banner
"${QUIVERD:-$build/server/quiverd}" --port "$port" --resp-port off --http-port off --port-file "$work/port" \
  --data-dir "$work/data" --durability async ${QUIVERD_FLAGS:-} >"$work/quiverd.log" 2>&1 &
qpid=$!
while [ ! -s "$work/port" ]; do sleep 0.01; done
"$build/bench/quiver-bench" --quiver "127.0.0.1:$port" --target quiver --load-only \
  --scale "$scale" --versions "$versions" >/dev/null
bench_labels "$work/labels.csv" "$labels" "$scale" 1793491200000 $(( 4 * 3600000 ))
reads() {  # reads LABEL: the user workload, its summary line
  "$build/bench/quiver-bench" --quiver "127.0.0.1:$port" --target quiver --workloads user \
    --scale "$scale" -c "${CONNECTIONS:-8}" --duration "${DURATION:-10}" --warmup 1 \
    | grep "^user " | sed "s/^/$1: /"
}
training_loop() {
  while :; do
    "$build/client/quiver" --port "$port" training-set --labels "$work/labels.csv" \
      --features user_profile:watch_count_7d,item_stats:popularity_score --out /dev/null \
      --connections 1 --no-progress >/dev/null 2>&1 || true
  done
}
t0=$(date +%s%3N)
"$build/client/quiver" --port "$port" training-set --labels "$work/labels.csv" \
  --features user_profile:watch_count_7d,item_stats:popularity_score --out /dev/null \
  --connections 1 --no-progress >/dev/null
echo "one training set of $labels rows alone: $(( $(date +%s%3N) - t0 )) ms"
reads "alone"
training_loop &
tpid=$!
bench_cleanup_extra() { kill "$tpid" 2>/dev/null || true; pkill -f "training-set --labels $work" || true; }
sleep 2  # the first training request is under way
reads "during training sets of $labels rows"
