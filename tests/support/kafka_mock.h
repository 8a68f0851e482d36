// KafkaMock: a quiver_kafka_mock process (librdkafka's mock cluster) for a
// test, and kcat as the outside producer.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace quiver::testing {

class KafkaMock {
 public:
  // Starts a cluster of `brokers` with the given topics (name, partitions);
  // check ok().
  KafkaMock(int brokers, const std::vector<std::pair<std::string, int>>& topics);
  ~KafkaMock();  // closes its stdin: the helper exits
  KafkaMock(const KafkaMock&) = delete;
  KafkaMock& operator=(const KafkaMock&) = delete;

  bool ok() const { return !bootstrap_.empty(); }
  const std::string& bootstrap() const { return bootstrap_; }
  bool BrokerDown(int id) { return Command("down " + std::to_string(id)); }
  bool BrokerUp(int id) { return Command("up " + std::to_string(id)); }

  // Produces keyed messages with kcat (one per line, key|value); true if
  // kcat succeeded.
  bool Produce(const std::string& topic,
               const std::vector<std::pair<std::string, std::string>>& messages);

 private:
  bool Command(const std::string& line);
  pid_t pid_ = -1;
  FILE* in_ = nullptr;   // its stdin
  FILE* out_ = nullptr;  // its stdout
  std::string bootstrap_;
};

std::string KafkaMockPath();

}  // namespace quiver::testing
