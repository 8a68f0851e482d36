// quiver-kafka-load: produces watch events (../shared/WORKLOAD.md) to a
// Kafka topic, keyed by user, as fast as possible or at a fixed rate, with
// the event time set to the moment each event is produced.
//
//   quiver-kafka-load --brokers B [--topic watch-events] [--events N]
//                     [--rate EVENTS_PER_S] [--users U] [--items I]
//                     [--linger-ms MS]
//
// Prints the events produced, the time taken and events/s, and how long
// the events waited from their event time until the broker acknowledged
// them (p50/p99/max): the part of an event-to-visible latency spent before
// any consumer could have fetched them.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "bench/latency_histogram.h"

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

quiver::bench::LatencyHistogram acked;  // event time to acknowledgement, ns
uint64_t failed = 0;

// Delivery reports run on the producing thread (in rd_kafka_poll/flush).
void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++failed;
    return;
  }
  const auto produced_ms = reinterpret_cast<intptr_t>(m->_private);
  acked.Record(static_cast<uint64_t>(std::max<int64_t>(0, NowMs() - produced_ms)) * 1'000'000);
}

rd_kafka_t* MakeProducer(const std::string& brokers, const std::string& linger_ms) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, const char*> settings[] = {
      {"bootstrap.servers", brokers.c_str()},
      {"linger.ms", linger_ms.c_str()},
      {"batch.num.messages", "10000"},
      {"queue.buffering.max.messages", "1000000"},
      {"compression.codec", "none"}};
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
      std::cerr << "quiver-kafka-load: " << k << ": " << err << "\n";
      return nullptr;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) std::cerr << "quiver-kafka-load: " << err << "\n";
  return rk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("quiver-kafka-load: produce watch events to Kafka");
  std::string brokers, topic = "watch-events";
  uint64_t events = 1'000'000;
  double rate = 0;
  int users = 2'000'000, items = 500'000;
  std::string linger_ms = "5";
  app.add_option("--brokers", brokers, "bootstrap servers")->required();
  app.add_option("--topic", topic, "topic (default watch-events)");
  app.add_option("--events", events, "events to produce (default 1,000,000)");
  app.add_option("--rate", rate, "events per second; 0: as fast as possible (default)");
  app.add_option("--users", users, "distinct users (default 2,000,000)");
  app.add_option("--items", items, "distinct items (default 500,000)");
  app.add_option("--linger-ms", linger_ms,
                 "producer linger.ms (default 5); librdkafka's mock cluster finds a fetch offset "
                 "by scanning its message sets, so fewer, larger ones cost it less");
  CLI11_PARSE(app, argc, argv);

  rd_kafka_t* rk = MakeProducer(brokers, linger_ms);
  if (rk == nullptr) return 1;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> user(0, users - 1), item(0, items - 1), minutes(1, 120),
      progress(0, 100);
  const auto start = std::chrono::steady_clock::now();
  char key[32], value[256];
  for (uint64_t i = 0; i < events; ++i) {
    if (rate > 0) {
      const auto due = start + std::chrono::duration<double>(static_cast<double>(i) / rate);
      if (due > std::chrono::steady_clock::now()) std::this_thread::sleep_until(due);
    }
    const int u = user(rng);
    const int key_len = std::snprintf(key, sizeof key, "u%d", u);
    const int64_t ts = NowMs();
    const int len = std::snprintf(
        value, sizeof value,
        R"({"userId":"u%d","itemId":"i%d","watchDurationMin":%d.5,"progress":%.2f,"ts":%lld})", u,
        item(rng), minutes(rng), progress(rng) / 100.0, static_cast<long long>(ts));
    for (;;) {
      const rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key, static_cast<size_t>(key_len)),
          RD_KAFKA_V_VALUE(value, static_cast<size_t>(len)),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<intptr_t>(ts))), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        std::cerr << "quiver-kafka-load: " << rd_kafka_err2str(e) << "\n";
        return 1;
      }
      rd_kafka_poll(rk, 10);
    }
    if (i % 1024 == 0) rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 60'000);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("produced %llu events in %.2f s (%.0f events/s)\n",
              static_cast<unsigned long long>(events), seconds, events / seconds);
  std::printf("event time to broker ack: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%llu failed)\n",
              acked.Percentile(0.5) / 1e6, acked.Percentile(0.99) / 1e6, acked.max() / 1e6,
              static_cast<unsigned long long>(failed));
  rd_kafka_destroy(rk);
  return 0;
}
