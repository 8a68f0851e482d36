// The source offsets Kafka ingestion resumes from, in the history's meta
// column.
#include "server/ingest/stored_offsets.h"

#include <filesystem>

#include <gtest/gtest.h>

namespace quiver {
namespace {

TEST(StoredOffsetsTest, OffsetsSurviveARestartPerTopicAndPartition) {
  char buffer[] = "/tmp/quiver-offsets-test-XXXXXX";
  const std::string dir = mkdtemp(buffer);
  auto open = [&] {
    auto s = HistoryStore::Open({.dir = dir, .durability = Durability::kAsync, .now_ms = {}});
    EXPECT_TRUE(s.ok()) << s.status().message();
    return std::move(*s);
  };
  {
    auto store = open();
    const StoredOffsets offsets(store.get());
    HistoryBatch batch;
    offsets.Save(&batch, "events", 0, 17);
    offsets.Save(&batch, "events", 1, int64_t{1} << 40);
    offsets.Save(&batch, "events/1", 0, 5);  // a topic name with the separator in it
    store->Submit(std::move(batch), nullptr);
  }
  auto store = open();
  const StoredOffsets offsets(store.get());
  EXPECT_EQ(*offsets.Load("events", 0), 17);
  EXPECT_EQ(*offsets.Load("events", 1), int64_t{1} << 40);
  EXPECT_EQ(*offsets.Load("events/1", 0), 5);
  EXPECT_FALSE(offsets.Load("events", 2)->has_value());
  EXPECT_FALSE(offsets.Load("other", 0)->has_value());

  HistoryBatch corrupt;
  MetaKeys(store.get(), "kafka-offset/").Put(&corrupt, "events/3", "short");
  store->Submit(std::move(corrupt), nullptr);
  store->Drain();
  const auto bad = offsets.Load("events", 3);
  EXPECT_EQ(bad.status().code(), StatusCode::kIoError);
  EXPECT_NE(bad.status().message().find("events/3"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(StoredOffsets(nullptr).Load("events", 0)->has_value());
  store.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace quiver
