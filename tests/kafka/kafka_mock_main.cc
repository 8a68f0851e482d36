// quiver_kafka_mock: hosts librdkafka's mock Kafka cluster for tests and
// benchmarks. Prints its bootstrap servers on the first line of stdout, then
// obeys commands on stdin, one per line, answering "ok" or "error ...":
//   topic NAME PARTITIONS   create a topic
//   down BROKER_ID          take a broker down (ids start at 1)
//   up BROKER_ID            bring it back
//   leader TOPIC PARTITION BROKER_ID   move a partition's leadership
// It exits when stdin closes, so it never outlives the test that started it.
//
//   quiver_kafka_mock [--brokers N] [--topic NAME:PARTITIONS]...
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

int brokers = 1;

// Replicated on up to 3 brokers, as a production topic would be (the
// mock's partitions then follow their leaders when a broker goes down).
bool CreateTopic(rd_kafka_mock_cluster_t* cluster, const std::string& name, int partitions) {
  return rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, std::min(brokers, 3)) ==
         RD_KAFKA_RESP_ERR_NO_ERROR;
}

int Usage() {
  std::cerr << "usage: quiver_kafka_mock [--brokers N] [--topic NAME:PARTITIONS]...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
    } else if (arg == "--topic" && i + 1 < argc) {
      const std::string spec = argv[++i];
      const size_t colon = spec.rfind(':');
      if (colon == std::string::npos) return Usage();
      topics.emplace_back(spec.substr(0, colon), std::atoi(spec.c_str() + colon + 1));
    } else {
      return Usage();
    }
  }
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::cerr << "quiver_kafka_mock: " << err << "\n";
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    std::cerr << "quiver_kafka_mock: cannot create the mock cluster\n";
    return 1;
  }
  for (const auto& [name, partitions] : topics) {
    if (!CreateTopic(cluster, name, partitions)) {
      std::cerr << "quiver_kafka_mock: cannot create topic " << name << "\n";
      return 1;
    }
  }
  std::cout << rd_kafka_mock_cluster_bootstraps(cluster) << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command, name;
    int number = 0;
    in >> command;
    bool ok = false;
    if (command == "topic" && (in >> name >> number)) {
      ok = CreateTopic(cluster, name, number);
    } else if (command == "down" && (in >> number)) {
      ok = rd_kafka_mock_broker_set_down(cluster, number) == RD_KAFKA_RESP_ERR_NO_ERROR;
    } else if (command == "up" && (in >> number)) {
      ok = rd_kafka_mock_broker_set_up(cluster, number) == RD_KAFKA_RESP_ERR_NO_ERROR;
    } else if (int partition = 0; command == "leader" && (in >> name >> partition >> number)) {
      // What Kafka's controller does when a leader's broker dies; the mock
      // leaves it to the test.
      ok = rd_kafka_mock_partition_set_leader(cluster, name.c_str(), partition, number) ==
           RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    std::cout << (ok ? "ok" : "error: " + line) << std::endl;
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
