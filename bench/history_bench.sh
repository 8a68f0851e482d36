#!/usr/bin/env bash
# The history's figures, on the reference data set (2M users, 500k items):
#  1. restart: quiverd stopped and started on its data; time to rebuild the
#     online table, beside Redis restarting from an RDB of today's layout;
#  2. a point-in-time training set of LABELS label rows x 2 views over
#     VERSIONS versions of every entity, end to end with `quiver training-set`.
#   bench/history_bench.sh
# MODE=online measures the training set's online fast path instead: one
# version of every entity, written now, and label times after it (within
# the views' TTLs), so that every label row is answered from the online
# table without a history read; no compaction, restart or Redis.
# Env: BUILD (default build/release), SCALE (default 1), VERSIONS (default 5),
#      LABELS (default 1000000), CONNECTIONS (training-set, default 2),
#      WORK (a directory with room for the data; default a temp dir),
#      QUIVERD_FLAGS (more quiverd flags, e.g. "--history-cache 4GB
#      --history-cache-policy clock").
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${SCALE:-1}
mode=${MODE:-history}
versions=${VERSIONS:-5}
[ "$mode" = online ] && versions=0  # one version, at the time of loading
labels=${LABELS:-1000000}
port=7091
redis_port=6391
. bench/common.sh
bench_need server/quiverd client/quiver bench/quiver-bench

start_quiverd() {  # start_quiverd LOG: starts quiverd on $work/data, waits for its port file
  rm -f "$work/port"
  "$build/server/quiverd" --port "$port" --resp-port off --http-port off --port-file "$work/port" --data-dir "$work/data" \
    --durability "${DURABILITY:-async}" ${QUIVERD_FLAGS:-} >"$1" 2>&1 &
  qpid=$!
  while [ ! -s "$work/port" ]; do sleep 0.01; done
}
stop_quiverd() { kill "$qpid"; wait "$qpid" || true; qpid=; }
now_ms() { date +%s%3N; }
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$qpid/stat"; }

# The issue's two features, then with the 32-float vector: three runs
# each, the first filling the block cache.
training_sets() {
  local features run t0 c0
  for features in user_profile:watch_count_7d,item_stats:popularity_score \
    user_profile:watch_count_7d,user_profile:genre_preferences,item_stats:popularity_score; do
    for run in 1 2 3; do
      t0=$(now_ms)
      c0=$(cpu_ms)
      "$build/client/quiver" --port "$port" training-set --labels "$work/labels.csv" \
        --features "$features" --out "$work/train.csv" --connections "${CONNECTIONS:-2}" --no-progress \
        >/dev/null
      echo "training set ($mode), run $run: $labels rows in $(( $(now_ms) - t0 )) ms end to end," \
        "quiverd CPU $(( $(cpu_ms) - c0 )) ms ($features)"
    done
  done
}

bench_banner
start_quiverd "$work/load.log"
t0=$(now_ms)
"$build/bench/quiver-bench" --quiver "127.0.0.1:$port" --target quiver --load-only \
  --scale "$scale" --versions "$versions"
echo "load: $versions versions of every entity in $(( ($(now_ms) - t0) / 1000 )) s," \
  "data dir $(du -sh "$work/data" | cut -f1)"
if [ "$mode" = online ]; then
  # No flush or compaction left to compete with the runs.
  "$build/client/quiver" --port "$port" compact >/dev/null
  # Label times after every loaded version, within an hour (the views'
  # TTLs are 7 days and 2 hours): every row is the online one.
  bench_labels "$work/labels.csv" "$labels" "$scale" "$(( $(now_ms) + 1000 ))" 3600000
  training_sets
  echo "online rows at the end: $("$build/client/quiver" --port "$port" status | awk '/online rows/{print $3}')"
  stop_quiverd
  exit 0
fi
# As a long-running server's history would be: compacted to its last level.
t0=$(now_ms)
"$build/client/quiver" --port "$port" compact >/dev/null
echo "compaction: $(( $(now_ms) - t0 )) ms"
stop_quiverd
echo "data dir once compacted: $(du -sh "$work/data" | cut -f1)"

t0=$(now_ms)
start_quiverd "$work/restart.log"
echo "restart quiver: listening $(( $(now_ms) - t0 )) ms after exec;" \
  "$(grep -o 'recovered.*' "$work/restart.log")"

# Labels: a user, an item and a time within the loaded hours (+ 2h).
start_ms=1793491200000
bench_labels "$work/labels.csv" "$labels" "$scale" "$start_ms" $(( (versions + 2) * 3600000 ))
# The loaded versions have fixed event times, long past the views' TTLs
# (7d, 2h) by now, so quiverd's expiry sweep empties the online table in
# the seconds after a start. Until it has, label rows at or after an
# entity's online version are answered from memory and the others from
# the history, a mix that depends on timing; once it has, every label row
# is a history read (the slower case). Wait for that.
until [ "$("$build/client/quiver" --port "$port" status | awk '/online rows/{print $3}')" = 0 ]; do
  sleep 0.5
done
training_sets
stop_quiverd

# Redis from an RDB of today's layout (18M keys at full scale).
work_redis="$work/redis"
mkdir -p "$work_redis"
redis-server --port "$redis_port" --dir "$work_redis" --save "" --appendonly no --daemonize yes \
  --logfile "$work_redis/redis.log"
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.05; done
"$build/bench/quiver-bench" --redis "127.0.0.1:$redis_port" --target redis --load-only --scale "$scale"
redis-cli -p "$redis_port" save >/dev/null
redis-cli -p "$redis_port" shutdown nosave >/dev/null || true
sleep 0.5
t0=$(now_ms)
redis-server --port "$redis_port" --dir "$work_redis" --save "" --appendonly no --daemonize yes \
  --logfile "$work_redis/redis.log"
until redis-cli -p "$redis_port" info persistence 2>/dev/null | tr -d '\r' | grep -qx 'loading:0'; do
  sleep 0.01
done
echo "restart redis: serving $(( $(now_ms) - t0 )) ms after exec, $(redis-cli -p "$redis_port" dbsize) keys from an RDB of $(du -sh "$work_redis/dump.rdb" | cut -f1)"
