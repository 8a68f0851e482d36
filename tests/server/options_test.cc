#include "server/options.h"

#include <fstream>

#include <gtest/gtest.h>

namespace quiver {
namespace {

Result<std::optional<ServerOptions>> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "quiverd");
  std::vector<const char*> argv;
  for (const auto& a : args)
    argv.push_back(a.c_str());
  return ParseServerOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(ServerOptionsTest, DefaultsAreDocumentedOnes) {
  auto o = Parse({});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ((*o)->bind, "127.0.0.1");
  EXPECT_EQ((*o)->port, 7070);
  EXPECT_EQ((*o)->resp_port, 6379);
  EXPECT_EQ((*o)->http_port, 8080);
  EXPECT_EQ((*o)->http_bind, "127.0.0.1");
  EXPECT_EQ((*Parse({"--http-port", "off"}))->http_port, -1);
  EXPECT_EQ((*Parse({"--http-port", "0"}))->http_port, 0);
  EXPECT_FALSE(Parse({"--http-port", "65536"}).ok());
  EXPECT_EQ((*o)->data_dir, "./data");
  EXPECT_EQ((*o)->max_frame, 64u << 20);
  EXPECT_GE((*o)->threads, 1);
  EXPECT_TRUE((*o)->huge_pages);
  EXPECT_FALSE((*Parse({"--huge-pages", "false"}))->huge_pages);
  EXPECT_FALSE(Parse({"--huge-pages", "maybe"}).ok());
  EXPECT_TRUE((*o)->statistics);
  EXPECT_FALSE((*Parse({"--statistics", "false"}))->statistics);
  EXPECT_FALSE(Parse({"--statistics", "off"}).ok());
  EXPECT_EQ((*o)->stats_window_ms, 3'600'000);
  EXPECT_EQ((*Parse({"--stats-window", "5m"}))->stats_window_ms, 300'000);
  EXPECT_FALSE(Parse({"--stats-window", "10ms"}).ok());
}

TEST(ServerOptionsTest, FlagsOverrideTheConfigFile) {
  const std::string path = ::testing::TempDir() + "/quiverd.yaml";
  std::ofstream(path) << "port: 9000\nthreads: 3\nmax_memory: 2GB\ndata_dir: /var/q\n";
  auto o = Parse({"--config", path, "--port", "9001"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ((*o)->port, 9001);
  EXPECT_EQ((*o)->threads, 3);
  EXPECT_EQ((*o)->max_memory, int64_t{2} << 30);
  EXPECT_EQ((*o)->data_dir, "/var/q");
}

TEST(ServerOptionsTest, DurabilityModes) {
  auto o = Parse({});
  EXPECT_TRUE((*o)->keep_history);
  EXPECT_EQ((*o)->durability, Durability::kSync);
  EXPECT_EQ((*o)->history_cache, int64_t{256} << 20);
  EXPECT_EQ((*Parse({"--durability", "async"}))->durability, Durability::kAsync);
  EXPECT_EQ((*Parse({"--durability", "none"}))->durability, Durability::kNone);
  EXPECT_FALSE((*Parse({"--durability", "memory"}))->keep_history);
  EXPECT_EQ((*Parse({"--history-cache", "1GB"}))->history_cache, int64_t{1} << 30);
  EXPECT_EQ((*o)->history_cache_policy, CachePolicy::kLru);
  EXPECT_EQ((*Parse({"--history-cache-policy", "clock"}))->history_cache_policy,
            CachePolicy::kClock);
  EXPECT_NE(Parse({"--history-cache-policy", "arc"})
                .status()
                .message()
                .find("history_cache_policy: unknown cache policy 'arc' (expected lru or clock)"),
            std::string::npos);
  Result<std::optional<ServerOptions>> bad = Parse({"--durability", "fsync"});
  EXPECT_NE(bad.status().message().find("durability: unknown durability 'fsync'"),
            std::string::npos)
      << bad.status().message();
}

TEST(ServerOptionsTest, KafkaIngestion) {
  auto o = Parse({});
  EXPECT_EQ((*o)->kafka.brokers, "");
  EXPECT_EQ((*o)->kafka.group, "quiver");
  EXPECT_EQ((*o)->kafka.max_batch_events, 20'000u);
  EXPECT_EQ((*o)->kafka.max_batch_ms, 20);
  const std::string path = ::testing::TempDir() + "/kafka.yaml";
  std::ofstream(path) << "kafka_brokers: k1:9092,k2:9092\nkafka_max_batch_ms: 5\n";
  o = Parse({"--config", path, "--kafka-group", "features", "--kafka-max-batch-events", "500",
             "--kafka-config", "session.timeout.ms=6000,fetch.wait.max.ms=10"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ((*o)->kafka.brokers, "k1:9092,k2:9092");
  EXPECT_EQ((*o)->kafka.group, "features");
  EXPECT_EQ((*o)->kafka.max_batch_events, 500u);
  EXPECT_EQ((*o)->kafka.max_batch_ms, 5);
  const std::vector<std::pair<std::string, std::string>> config = {{"session.timeout.ms", "6000"},
                                                                   {"fetch.wait.max.ms", "10"}};
  EXPECT_EQ((*o)->kafka.config, config);
  EXPECT_NE(Parse({"--kafka-max-batch-events", "0"})
                .status()
                .message()
                .find("kafka_max_batch_events: expected an integer from 1 to 1000000, got '0'"),
            std::string::npos);
  EXPECT_NE(Parse({"--kafka-max-batch-ms", "soon"}).status().message().find("kafka_max_batch_ms"),
            std::string::npos);
  EXPECT_NE(Parse({"--kafka-config", "acks"}).status().message().find("kafka_config"),
            std::string::npos);
}

TEST(ServerOptionsTest, BadValuesNameTheOption) {
  EXPECT_NE(Parse({"--port", "70000"}).status().message().find("port"), std::string::npos);
  EXPECT_NE(Parse({"--max-memory", "lots"}).status().message().find("max_memory"),
            std::string::npos);
  EXPECT_NE(Parse({"--max-frame", "10"}).status().message().find("max_frame"), std::string::npos);
  EXPECT_FALSE(Parse({"--no-such-flag"}).ok());
  const std::string path = ::testing::TempDir() + "/bad.yaml";
  std::ofstream(path) << "prot: 1\n";
  EXPECT_NE(Parse({"--config", path}).status().message().find("unknown key 'prot'"),
            std::string::npos);
}

TEST(ByteSizeTest, UnitsArePowersOf1024) {
  EXPECT_EQ(*ParseByteSize("1024"), 1024);
  EXPECT_EQ(*ParseByteSize("64KB"), 64 << 10);
  EXPECT_EQ(*ParseByteSize("512MiB"), int64_t{512} << 20);
  EXPECT_EQ(*ParseByteSize("4G"), int64_t{4} << 30);
  EXPECT_FALSE(ParseByteSize("4X").ok());
  EXPECT_FALSE(ParseByteSize("-1").ok());
}

}  // namespace
}  // namespace quiver
