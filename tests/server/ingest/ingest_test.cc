// Source events through the mapper and the ingestor into the store: what the
// online table, the history and a restart then hold.
#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>

#include <librdkafka/rdkafka.h>

#include "server/ingest/kafka_ingest.h"
#include "service/event_mapper.h"
#include "storage/features/feature_store.h"
#include "storage/online/row.h"
#include "storage/streaming/ingestor.h"
#include "support/fault_fs.h"
#include "support/quiverd_process.h"
#include "support/watch_events.h"
#include "util/rcu.h"

namespace quiver {
namespace {

const std::string kDefinitions = testing::WatchEventsDefinitions("{topic: watch-events}", R"(
      - {name: watch_count_1h, type: int64, agg: count, window: 1h, hop: 10m}
      - {name: minutes_1h, type: float32, agg: sum, of: "$.watchDurationMin", window: 1h, hop: 10m}
      - {name: last_item, type: string, agg: last, of: "$.itemId"}
      - {name: total, type: int64, agg: count})",
                                                                 2);

constexpr int64_t kT0 = 1'763'899'800'000;  // a multiple of 10 minutes
constexpr int64_t kMinute = 60'000;

std::string Event(std::string_view user, std::string_view item, double minutes, double progress,
                  int64_t ts) {
  return "{\"userId\": \"" + std::string(user) + "\", \"itemId\": \"" + std::string(item) +
         "\", \"watchDurationMin\": " + std::to_string(minutes) +
         ", \"progress\": " + std::to_string(progress) + ", \"ts\": " + std::to_string(ts) + "}";
}

class IngestTest : public ::testing::Test {
 protected:
  struct Instance {
    Instance(const std::string& dir, std::shared_ptr<testing::FaultFs> fs) {
      auto h = HistoryStore::Open({.dir = dir,
                                   .durability = Durability::kAsync,
                                   .now_ms = {},
                                   .retry_every = std::chrono::milliseconds(5),
                                   .file_system = std::move(fs)});
      EXPECT_TRUE(h.ok()) << h.status().ToString();
      history = std::move(*h);
      store =
          std::make_unique<FeatureStore>(registry, table, history.get(), FeatureStore::Options{});
      EXPECT_TRUE(store->Recover().ok());
      ingestor = std::make_unique<Ingestor>(*store);
      EXPECT_TRUE(ingestor->Recover().ok());
      mapper.Refresh(registry);
    }
    Registry registry;
    OnlineTable table{OnlineTable::Options{}};
    std::unique_ptr<HistoryStore> history;
    std::unique_ptr<FeatureStore> store;
    std::unique_ptr<Ingestor> ingestor;
    EventMapper mapper{"watch_events"};
  };

  IngestTest() : dir_(testing::MakeTempDir()) {
    instance_ = std::make_unique<Instance>(dir_, fs_);
    EXPECT_TRUE(instance_->store->Apply(kDefinitions).ok());
    instance_->mapper.Refresh(instance_->registry);
  }
  ~IngestTest() override {
    instance_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Restart() {
    instance_.reset();
    instance_ = std::make_unique<Instance>(dir_, fs_);
  }

  // Maps and applies events, commits, and returns the counts.
  IngestCounts Ingest(const std::vector<std::string>& events) {
    std::vector<SourceEvent> mapped;
    MappedEvent m;
    for (const std::string& e : events) {
      instance_->mapper.Map(e, &m);
      EXPECT_EQ(m.error, EventError::kNone) << m.message;
      for (SourceEvent& s : m.events)
        mapped.push_back(std::move(s));
    }
    return Commit([&](HistoryBatch* batch, IngestCounts* counts) {
      return instance_->ingestor->Apply(mapped, batch, counts);
    });
  }

  IngestCounts Advance(int64_t until) {
    return Commit([&](HistoryBatch* batch, IngestCounts* counts) {
      return instance_->ingestor->Advance(until, batch, counts);
    });
  }

  template <typename Fn>
  IngestCounts Commit(Fn&& fn) {
    HistoryBatch batch;
    IngestCounts counts;
    EXPECT_TRUE(fn(&batch, &counts).ok());
    instance_->store->Commit(std::move(batch), nullptr);
    instance_->history->Drain();
    return counts;
  }

  // The view's row of one entity, online (as_of < 0) or as of a time, as
  // text per field ("-" where absent).
  std::vector<std::string> Row(std::string_view view, std::vector<std::string_view> key,
                               int64_t as_of = -1) {
    rcu::ReadLock lock;
    ReadResult r;
    const int64_t times[] = {as_of};
    const Status s = as_of < 0 ? instance_->store->Read({view, {}, key}, &r)
                               : instance_->store->ReadAsOf({view, {}, key, times}, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok() || r.states[0] != RowState::kFound) return {};
    RowReader row(r.view->layout, r.rows[0]);
    std::vector<std::string> out;
    for (size_t i = 0; i < r.view->fields.size(); ++i) {
      if (!row.present(i)) {
        out.push_back("-");
        continue;
      }
      switch (r.view->fields[i].type.type) {
        case FieldType::kInt64:
          out.push_back(std::to_string(row.Fixed<int64_t>(i)));
          break;
        case FieldType::kFloat32:
          out.push_back(std::to_string(row.Fixed<float>(i)));
          break;
        default:
          out.push_back(std::string(row.Var(i)));
      }
    }
    return out;
  }

  std::string dir_;
  std::shared_ptr<testing::FaultFs> fs_ = std::make_shared<testing::FaultFs>();
  std::unique_ptr<Instance> instance_;
};

using Fields = std::vector<std::string>;

TEST_F(IngestTest, EventsBecomeWindowedFeaturesOnlineAndInTheHistory) {
  const IngestCounts c = Ingest({
      Event("u1", "i1", 10, 0.5, kT0),
      Event("u1", "i2", 20, 0.25, kT0 + 5 * kMinute),
      Event("u2", "i1", 1, 1.0, kT0 + 6 * kMinute),
      Event("u1", "i1", 30, 0.75, kT0 + 30 * kMinute),
  });
  EXPECT_EQ(c.events, 8u);  // 4 events x 2 views
  EXPECT_EQ(Row("user_activity", {"u1"}), (Fields{"3", "60.000000", "i1", "3"}));
  EXPECT_EQ(Row("user_activity", {"u2"}), (Fields{"1", "1.000000", "i1", "1"}));
  EXPECT_EQ(Row("user_item_progress", {"u1", "i1"}), (Fields{"0.750000"}));
  EXPECT_EQ(Row("user_item_progress", {"u1", "i2"}), (Fields{"0.250000"}));
  // As of 4 minutes in: only the first event.
  EXPECT_EQ(Row("user_activity", {"u1"}, kT0 + 4 * kMinute), (Fields{"1", "10.000000", "i1", "1"}));
  // The first two events sit in tile [T0, T0+10m) and leave the window at
  // T0 + 10m + 1h, without any new event, once the clock gets there.
  const int64_t leave = kT0 + 70 * kMinute;
  Advance(leave + kMinute);
  EXPECT_EQ(Row("user_activity", {"u1"}, leave - 1), (Fields{"3", "60.000000", "i1", "3"}));
  EXPECT_EQ(Row("user_activity", {"u1"}, leave), (Fields{"1", "30.000000", "i1", "3"}));
  EXPECT_EQ(Row("user_activity", {"u1"}), (Fields{"1", "30.000000", "i1", "3"}));
  EXPECT_EQ(Row("user_activity", {"u2"}), (Fields{"0", "0.000000", "i1", "1"}));
}

TEST_F(IngestTest, WindowStateMemoryIsCounted) {
  EXPECT_EQ(instance_->ingestor->entities(), 0u);
  EXPECT_EQ(instance_->ingestor->memory_bytes(), 0u);
  Ingest({Event("u1", "i1", 10, 0.5, kT0)});
  EXPECT_EQ(instance_->ingestor->entities(), 2u);  // u1, (u1,i1)
  const size_t one_tile = instance_->ingestor->memory_bytes();
  EXPECT_GT(one_tile, 2 * sizeof(EntityState));
  // Five more tiles (hops of 10 minutes) in each of user_activity's two
  // windowed fields: the same entities hold more.
  std::vector<std::string> later;
  for (int k = 1; k <= 5; ++k)
    later.push_back(Event("u1", "i1", 1, 0.5, kT0 + k * 10 * kMinute));
  Ingest(later);
  EXPECT_EQ(instance_->ingestor->entities(), 2u);
  const size_t six_tiles = instance_->ingestor->memory_bytes();
  // Packed, a count's tile takes 16 bytes, a sum's 24 (packed_state.h).
  const size_t five_tiles = 5 * (16 + 24);
  EXPECT_GE(six_tiles, one_tile + five_tiles);
  // They count against --max-memory.
  EXPECT_EQ(instance_->table.budget().bytes(MemoryPart::kWindows), static_cast<int64_t>(six_tiles));
  // A restart counts the states it loads.
  Restart();
  EXPECT_EQ(instance_->ingestor->entities(), 2u);
  EXPECT_EQ(instance_->ingestor->memory_bytes(), six_tiles);
}

TEST_F(IngestTest, StateSurvivesARestartAndCountingContinues) {
  Ingest({Event("u1", "i1", 10, 0.5, kT0), Event("u1", "i2", 5, 0.5, kT0 + kMinute)});
  Restart();
  EXPECT_EQ(instance_->ingestor->entities(), 3u);  // u1, (u1,i1), (u1,i2)
  EXPECT_EQ(Row("user_activity", {"u1"}), (Fields{"2", "15.000000", "i2", "2"}));
  Ingest({Event("u1", "i3", 1, 0.5, kT0 + 2 * kMinute)});
  EXPECT_EQ(Row("user_activity", {"u1"}), (Fields{"3", "16.000000", "i3", "3"}));
  // Changes scheduled before the restart still happen.
  Advance(kT0 + 80 * kMinute);
  EXPECT_EQ(Row("user_activity", {"u1"}), (Fields{"0", "0.000000", "i3", "3"}));
  // Online rows of computed views come back from the window states, as of
  // the newest change written.
  Restart();
  EXPECT_EQ(Row("user_activity", {"u1"}), (Fields{"0", "0.000000", "i3", "3"}));
  rcu::ReadLock lock;
  ReadResult r;
  const std::string_view u1[] = {"u1"};
  ASSERT_TRUE(instance_->store->Read({"user_activity", {}, u1}, &r).ok());
  EXPECT_EQ(r.event_time_ms[0], kT0 + 70 * kMinute);
}

TEST_F(IngestTest, ClientWritesToComputedViewsAreRefused) {
  const std::string_view keys[] = {"u1"};
  const int64_t one = 1;
  const ColumnInput col{
      "total", TypeSpec{FieldType::kInt64, 0}, {reinterpret_cast<const uint8_t*>(&one), 8}, {}, {},
      {}};
  HistoryBatch batch;
  const Result<WriteResult> r =
      instance_->store->Write({"user_activity", keys, {}, {&col, 1}}, &batch);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("computed from source 'watch_events'"), std::string::npos);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(instance_->store->Delete("user_activity", keys, &batch).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(batch.empty());
}

// Events out of the store's event-time bounds are refused as writes are:
// Kafka ingestion dead-letters them, a backfill counts them malformed.
TEST_F(IngestTest, MapperRefusesEventTimesTheStoreWouldRefuse) {
  EventMapper bounded("watch_events", instance_->store.get());
  bounded.Refresh(instance_->registry);
  const int64_t now = instance_->store->NowMs();
  MappedEvent m;
  bounded.Map(Event("u1", "i1", 1, 0.5, now - kMinute), &m);
  EXPECT_EQ(m.error, EventError::kNone) << m.message;
  for (int64_t t : {now * 1000, now + 6 * kMinute, int64_t{-1}}) {
    bounded.Map(Event("u1", "i1", 1, 0.5, t), &m);
    EXPECT_EQ(m.error, EventError::kBadEventTime) << t;
    EXPECT_TRUE(m.events.empty()) << t;
  }
  EXPECT_NE(m.message.find("before 1970"), std::string::npos) << m.message;
  bounded.Map(Event("u1", "i1", 1, 0.5, now + 10 * kMinute), &m);
  EXPECT_NE(m.message.find("ahead of the server clock"), std::string::npos) << m.message;
}

TEST_F(IngestTest, MapperTypesKeysAndTimes) {
  MappedEvent m;
  EventMapper& mapper = instance_->mapper;
  EXPECT_EQ(mapper.views(), 2u);
  EXPECT_EQ(mapper.topic(), "watch-events");
  mapper.Map(R"({"userId": 42, "itemId": "i9", "ts": "2025-11-23T12:00:00.5Z", "progress": 1})",
             &m);
  ASSERT_EQ(m.error, EventError::kNone) << m.message;
  ASSERT_EQ(m.events.size(), 2u);
  EXPECT_EQ(m.events[0].key, "42");  // an integer key is its decimal text
  EXPECT_EQ(m.events[0].event_time_ms, 1'763'899'200'500);
  // No watchDurationMin: the sum skips the event; count still counts it.
  EXPECT_TRUE(std::holds_alternative<std::monostate>(m.events[0].values[1]));
  EXPECT_EQ(std::get<float>(m.events[1].values[0]), 1.0f);

  const std::pair<const char*, EventError> bad[] = {
      {"{\"userId\": \"u1\", ", EventError::kBadJson},
      {R"({"userId": "u1", "itemId": "i1"})", EventError::kBadEventTime},
      {R"({"userId": "u1", "itemId": "i1", "ts": "yesterday"})", EventError::kBadEventTime},
      // Extreme times, as Kafka and backfills may carry them (the UBSan
      // suite runs this): refused, never overflowed.
      {R"({"userId": "u1", "itemId": "i1", "ts": 9223372036854775807})", EventError::kBadEventTime},
      {R"({"userId": "u1", "itemId": "i1", "ts": -9223372036854775808})",
       EventError::kBadEventTime},
      {R"({"userId": "u1", "itemId": "i1", "ts": 18446744073709551615})",
       EventError::kBadEventTime},
      {R"({"userId": "u1", "itemId": "i1", "ts": 1e19})", EventError::kBadEventTime},
      {R"({"userId": "u1", "itemId": "i1", "ts": -1e300})", EventError::kBadEventTime},
      {R"({"itemId": "i1", "ts": 1})", EventError::kMissingKey},
      {R"({"userId": null, "itemId": "i1", "ts": 1})", EventError::kMissingKey},
      {R"({"userId": "", "itemId": "i1", "ts": 1})", EventError::kBadKey},
      {R"({"userId": [1], "itemId": "i1", "ts": 1})", EventError::kBadKey},
  };
  for (const auto& [json, error] : bad) {
    mapper.Map(json, &m);
    EXPECT_EQ(m.error, error) << json << ": " << m.message;
    EXPECT_TRUE(m.events.empty()) << json;
  }
  // A wrong type refuses the event for the view that reads the value only.
  mapper.Map(R"({"userId": "u1", "itemId": "i1", "ts": 1, "progress": "most"})", &m);
  EXPECT_EQ(m.error, EventError::kWrongType);
  EXPECT_NE(m.message.find("user_item_progress@v2: $.progress is not a float32"), std::string::npos)
      << m.message;
  ASSERT_EQ(m.events.size(), 1u);
  EXPECT_EQ(m.events[0].view_id, 1u);
}

// Events of several entities interleaved in one batch, then the clock
// passes every window: each entity's windows empty on their own schedule.
TEST_F(IngestTest, InterleavedEntitiesAgeIndependently) {
  Ingest({
      Event("a", "i1", 1, 0.5, kT0),
      Event("b", "i1", 1, 0.5, kT0 + kMinute),
      Event("a", "i1", 1, 0.5, kT0 + 2 * kMinute),
      Event("b", "i1", 1, 0.5, kT0 + 75 * kMinute),
      Event("a", "i1", 1, 0.5, kT0 + 80 * kMinute),
  });
  Advance(kT0 + 300 * kMinute);
  EXPECT_EQ(Row("user_activity", {"a"}), (Fields{"0", "0.000000", "i1", "3"}));
  EXPECT_EQ(Row("user_activity", {"b"}), (Fields{"0", "0.000000", "i1", "2"}));
}

// Writes are refused (a disk fault): u1's events write nothing; once the
// disk recovers, u2's versions are its own.
TEST_F(IngestTest, AFailedWriteLeavesNothingForTheNextEntity) {
  HistoryStore& history = *instance_->history;
  fs_->Fail(testing::FaultFs::kAppend);
  HistoryBatch probe;  // its commit meets the fault (and waits for recovery)
  probe.Put(HistoryStore::kMeta, "probe", "x");
  history.Submit(std::move(probe), nullptr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (history.health().ok())
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the fault was not seen";
  EXPECT_EQ(instance_->store->IngestRefusal().kind(), ErrorKind::kMisconf);
  MappedEvent m;
  instance_->mapper.Map(Event("u1", "i1", 10, 0.5, kT0), &m);
  HistoryBatch refused;
  IngestCounts counts;
  EXPECT_EQ(instance_->ingestor->Apply(m.events, &refused, &counts).kind(), ErrorKind::kMisconf);
  EXPECT_EQ(counts.versions, 0u);
  fs_->Heal();
  const auto healed = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!history.health().ok())
    ASSERT_LT(std::chrono::steady_clock::now(), healed) << "the store did not recover";
  Ingest({Event("u2", "i2", 1, 1.0, kT0 + kMinute)});
  EXPECT_EQ(Row("user_activity", {"u2"}), (Fields{"1", "1.000000", "i2", "1"}));
  EXPECT_EQ(Row("user_activity", {"u2"}, kT0), Fields{});
  EXPECT_EQ(Row("user_item_progress", {"u2", "i2"}), (Fields{"1.000000"}));
}

// The value librdkafka ends up with for `key` after `settings`, in order.
std::string Effective(const std::vector<std::pair<std::string, std::string>>& settings,
                      const char* key) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[256];
  for (const auto& [k, v] : settings) {
    EXPECT_EQ(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err), RD_KAFKA_CONF_OK)
        << k << ": " << err;
  }
  char value[64];
  size_t size = sizeof value;
  EXPECT_EQ(rd_kafka_conf_get(conf, key, value, &size), RD_KAFKA_CONF_OK);
  rd_kafka_conf_destroy(conf);
  return value;
}

TEST(KafkaSettingsTest, PrefetchUpToTheByteBoundUnlessTheUserSaysOtherwise) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:9092";
  // librdkafka's own default of 100,000 stalls a fast consumer for a second.
  EXPECT_EQ(Effective(ConsumerSettings(options), "queued.min.messages"), "1000000");
  EXPECT_EQ(Effective(ConsumerSettings(options), "enable.auto.commit"), "false");
  options.config = {{"queued.min.messages", "5000"}, {"fetch.wait.max.ms", "7"}};
  EXPECT_EQ(Effective(ConsumerSettings(options), "queued.min.messages"), "5000");
  EXPECT_EQ(Effective(ConsumerSettings(options), "fetch.wait.max.ms"), "7");
}

}  // namespace
}  // namespace quiver
