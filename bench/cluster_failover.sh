#!/usr/bin/env bash
# A cluster's catch-up, failover and one-client write latency beside Redis
# with a replica and WAIT 1 0 (bench/cluster_failover.py says what each
# figure is): 3 quiverd members on librdkafka's mock Kafka (3 brokers, 16
# partitions), all on loopback.
#   bench/cluster_failover.sh        Env: BUILD (default build/release),
#                                    WRITES (default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
bench_need server/quiverd client/quiver tests/quiver_kafka_mock
bench_banner ", cluster of 3 on the mock Kafka (3 brokers)"
QUIVERD="$build/server/quiverd" QUIVER_KAFKA_MOCK="$build/tests/quiver_kafka_mock" \
  PYTHONPATH="$build/python" /usr/bin/python3 bench/cluster_failover.py
