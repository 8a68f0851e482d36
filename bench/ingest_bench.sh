#!/usr/bin/env bash
# Kafka ingestion figures, against librdkafka's mock cluster on loopback
# (everything on this machine's cores: the cluster, the producer, quiverd):
#  1. throughput: EVENTS watch events produced first, then quiverd started
#     and timed until every event is applied (history on, durability
#     DURABILITY), through the windows of examples/streaming.yaml; then the
#     CPU each thread of quiverd and of the mock cluster used, per million
#     events (the cores' budget is what bounds the rate on a small host);
#  2. freshness: events produced at RATE events/s for SECONDS with their
#     event time set as they are produced; quiverd's event-to-visible
#     histogram (quiver status) gives p50/p99, beside the producer's own
#     event-to-acknowledged latency (the part before any consumer could
#     have fetched the events); then the batches and each thread's CPU.
#   bench/ingest_bench.sh
# Env: BUILD (default build/release), EVENTS (default 1000000), RATE
#      (default 100000), SECONDS_AT_RATE (default 20; 0 skips the freshness
#      phase), DURABILITY (default async), PARTITIONS (default 64),
#      LINGER_MS (the producer's linger.ms in the freshness phase, default
#      25).
# The mock cluster keeps about 5 MB per partition and drops older messages,
# so EVENTS / PARTITIONS must stay under ~40,000 (events are ~120 bytes),
# and a consumer that falls that far behind loses events (the script prints
# how many it consumed). The mock also finds a fetch's offset by scanning a
# partition's message sets from the oldest (librdkafka's "FIXME: Maintain an
# index"): with the producer's usual 5 ms linger, sets of one or two events
# pile up and a consumer even slightly behind makes the broker's CPU climb
# through the run (23% to 87% of a core in 20 s at 20,000 events/s), so the
# freshness phase produces with a 25 ms linger.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${EVENTS:-1000000}
rate=${RATE:-100000}
seconds=${SECONDS_AT_RATE:-20}
partitions=${PARTITIONS:-64}
bench_cleanup_extra() { exec 9>&- 2>/dev/null || true; }
. bench/common.sh
bench_need server/quiverd client/quiver bench/quiver-kafka-load tests/quiver_kafka_mock
Q="$build/client/quiver"

start_mock() {  # a fresh, empty cluster
  rm -f "$work/mock.in" "$work/mock.out"
  mkfifo "$work/mock.in"
  "$build/tests/quiver_kafka_mock" --topic "watch-events:$partitions" <"$work/mock.in" >"$work/mock.out" &
  mock_pid=$!
  exec 9>"$work/mock.in"
  while [ ! -s "$work/mock.out" ]; do sleep 0.01; done
  brokers=$(head -1 "$work/mock.out")
}
start_quiverd() {  # start_quiverd DATA_DIR
  rm -f "$work/port"
  "$build/server/quiverd" --port 0 --resp-port 0 --http-port off --port-file "$work/port" --data-dir "$1" \
    --durability "${DURABILITY:-async}" --features examples/features.yaml \
    --kafka-brokers "$brokers" --kafka-group "bench-$RANDOM" \
    --kafka-config "fetch.wait.max.ms=10,session.timeout.ms=6000" >"$work/quiverd.log" 2>&1 &
  qpid=$!
  while [ ! -s "$work/port" ]; do sleep 0.01; done
  port=$(head -1 "$work/port")
  "$Q" --port "$port" apply examples/streaming.yaml >/dev/null
}
caught_up() {  # messages consumed once every partition is applied to its end, else 0
  # awk on the text output: cheap enough to poll every 100 ms without
  # taking CPU from the run it measures (a Python start-up costs ~20 ms).
  "$Q" --port "$port" status | awk -v want="$partitions" '
    $1 == "messages" { messages = $2 }
    $1 ~ /^watch-events\// { n++; if ($4 != 0) lagging = 1 }
    END { print (n == want && !lagging) ? messages : 0 }'
}
now_ms() { date +%s%3N; }
thread_cpu() {  # thread_cpu PID PREFIX: "PREFIXname ticks faults" per thread
  local t
  for t in /proc/"$1"/task/*; do
    # After "pid (comm) ": minflt (minor page faults) is the 8th field,
    # utime and stime (CPU ticks, user + system) the 12th and 13th.
    awk -v name="$2$(cat "$t/comm" 2>/dev/null)" '{ sub(/^.*\) /, ""); print name, $12 + $13, $8 }' \
      "$t/stat" 2>/dev/null || true
  done
}
cpu_snapshot() { thread_cpu "$qpid" ""; thread_cpu "$mock_pid" "mock:"; }
per_thread() {  # per_thread BEFORE AFTER EVENTS COLUMN SCALE MIN: (after - before) * SCALE / EVENTS
  awk -v n="$3" -v col="$4" -v scale="$5" -v min="$6" '
    NR == FNR { before[$1] += $col; next }
    { after[$1] += $col }
    END {
      for (k in after) {
        s = (after[k] - before[k]) * scale / n
        total += s
        if (s >= min) printf "%s %.2f\n", k, s
      }
      printf "total %.2f\n", total }' "$1" "$2" | sort -k2 -rn
}
cpu_report() {  # cpu_report BEFORE AFTER EVENTS: CPU per million events, by thread name
  per_thread "$1" "$2" "$3" 2 "$(awk -v hz="$(getconf CLK_TCK)" 'BEGIN { print 1e6 / hz }')" 0.05 |
    awk '{ line = line sprintf("  %s %s s", $1, $2) }
      END { print "CPU per million events, by thread (2 cores give 2 s a second):" line }'
  # Pages first touched (zeroed by the kernel: new memory; with huge pages,
  # one fault per 2 MiB), per thousand events.
  per_thread "$1" "$2" "$3" 3 1000 0.5 |
    awk '{ line = line sprintf("  %s %s", $1, $2) }
      END { print "minor page faults per thousand events, by thread:" line }'
}

bench_banner
start_mock
echo "== throughput: $events events produced first, then consumed (durability ${DURABILITY:-async})"
"$build/bench/quiver-kafka-load" --brokers "$brokers" --events "$events"
start_quiverd "$work/data1"
cpu_snapshot >"$work/cpu0"
t0=$(now_ms)
while [ "$(caught_up)" -eq 0 ]; do sleep 0.1; done
consumed=$(caught_up)
t1=$(now_ms)
cpu_snapshot >"$work/cpu1"
"$Q" --port "$port" status | sed -n '1,6p'
# The group join (about 3 s with the mock cluster) is counted separately.
join=$(awk '/kafka: subscribed/ { s = $2 } /kafka: assigned/ { a = $2 } END {
  split(s, x, ":"); split(a, y, ":"); print (y[3] - x[3]) + 60 * (y[2] - x[2]) }' "$work/quiverd.log")
awk -v n="$consumed" -v ms="$((t1 - t0))" -v join="$join" 'BEGIN {
  s = ms / 1000 - join
  printf "ingested %d events in %.2f s after a %.1f s group join: %.0f events/s\n", n, s, join, n / s }'
cpu_report "$work/cpu0" "$work/cpu1" "$consumed"
kill "$qpid"; wait "$qpid" || true; qpid=
exec 9>&-

[ "$seconds" -gt 0 ] || exit 0  # SECONDS_AT_RATE=0: the throughput phase only
echo "== freshness: $rate events/s for ${seconds}s"
start_mock
start_quiverd "$work/data2"
sleep 8  # group join
cpu_snapshot >"$work/cpu0"
"$build/bench/quiver-kafka-load" --brokers "$brokers" --events "$((rate * seconds))" --rate "$rate" \
  --linger-ms "${LINGER_MS:-25}"
for _ in $(seq 100); do [ "$(caught_up)" -gt 0 ] && break; sleep 0.1; done
cpu_snapshot >"$work/cpu1"
"$Q" --port "$port" status | grep -E "messages|batches|event to visible|consume to visible"
cpu_report "$work/cpu0" "$work/cpu1" "$((rate * seconds))"
