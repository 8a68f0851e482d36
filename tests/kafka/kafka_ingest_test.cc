// Kafka ingestion end to end, over the real Kafka protocol: librdkafka's
// mock cluster in its own process, kcat producing from outside, quiverd
// consuming over TCP. Every value is checked against a ground truth the
// test computes from the events itself.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "support/connect.h"
#include "support/kafka_mock.h"
#include "support/quiverd_process.h"
#include "support/watch_events.h"

namespace quiver::testing {
namespace {

const std::string kDefinitions =
    WatchEventsDefinitions("{topic: watch-events, dead_letter_topic: watch-events-dead}", R"(
      - {name: count_1h, type: int64, agg: count, window: 1h, hop: 10m}
      - {name: minutes_2h, type: float64, agg: sum, of: "$.watchDurationMin", window: 2h, hop: 30m}
      - {name: max_progress_30m, type: float32, agg: max, of: "$.progress", window: 30m, hop: 5m}
      - {name: last_item, type: string, agg: last, of: "$.itemId"}
      - {name: total, type: int64, agg: count}
      - {name: minutes_total, type: int64, agg: sum, of: "$.watchDurationMin"})",
                           1);

constexpr int64_t kMinute = 60'000;
constexpr int kPartitions = 4;

struct WatchEvent {
  std::string user, item;
  int64_t minutes = 0;
  float progress = 0;  // multiples of 1/8: exact in float and in JSON
  int64_t ts = 0;

  std::string Json() const {
    return "{\"userId\":\"" + user + "\",\"itemId\":\"" + item +
           "\",\"watchDurationMin\":" + std::to_string(minutes) +
           ",\"progress\":" + std::to_string(progress) + ",\"ts\":" + std::to_string(ts) + "}";
  }
};

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0 && a < 0) ? 1 : 0);
}

bool InWindow(int64_t ts, int64_t t, int64_t window, int64_t hop) {
  return ts <= t && FloorDiv(ts, hop) >= FloorDiv(t - window, hop);
}

// user_activity of one user as of t, straight from the events.
struct Activity {
  int64_t count_1h = 0;
  double minutes_2h = 0;
  std::optional<float> max_progress_30m;
  std::string last_item;
  int64_t total = 0, minutes_total = 0;
  bool operator==(const Activity&) const = default;
};

std::optional<Activity> Truth(const std::vector<WatchEvent>& events, const std::string& user,
                              int64_t t) {
  Activity a;
  int64_t last_ts = INT64_MIN;
  for (const WatchEvent& e : events) {
    if (e.user != user || e.ts > t) continue;
    if (InWindow(e.ts, t, 60 * kMinute, 10 * kMinute)) ++a.count_1h;
    if (InWindow(e.ts, t, 120 * kMinute, 30 * kMinute)) a.minutes_2h += e.minutes;
    if (InWindow(e.ts, t, 30 * kMinute, 5 * kMinute)) {
      a.max_progress_30m = std::max(a.max_progress_30m.value_or(-1.0f), e.progress);
    }
    if (e.ts >= last_ts) {
      last_ts = e.ts;
      a.last_item = e.item;
    }
    ++a.total;
    a.minutes_total += e.minutes;
  }
  if (a.total == 0) return std::nullopt;
  return a;
}

std::optional<Activity> RowOf(const GetResult& r, size_t i) {
  if (!r.found(i)) return std::nullopt;
  Activity a;
  a.count_1h = r.column("count_1h")->int64_value(i);
  a.minutes_2h = r.column("minutes_2h")->float64_value(i);
  const Column* p = r.column("max_progress_30m");
  if (!p->is_null(i)) a.max_progress_30m = p->float32_value(i);
  a.last_item = std::string(r.column("last_item")->string_value(i));
  a.total = r.column("total")->int64_value(i);
  a.minutes_total = r.column("minutes_total")->int64_value(i);
  return a;
}

std::string Describe(const std::optional<Activity>& a) {
  if (!a) return "missing";
  return "count_1h=" + std::to_string(a->count_1h) +
         " minutes_2h=" + std::to_string(a->minutes_2h) + " max_progress_30m=" +
         (a->max_progress_30m ? std::to_string(*a->max_progress_30m) : "null") +
         " last_item=" + a->last_item + " total=" + std::to_string(a->total) +
         " minutes_total=" + std::to_string(a->minutes_total);
}

// Users u0..u{n-1}, each with a run of events in time order (ties
// included) over the last few hours, interleaved across users.
std::vector<WatchEvent> GenerateEvents(int users, int per_user, int64_t end, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<WatchEvent> events;
  for (int u = 0; u < users; ++u) {
    int64_t ts =
        end - 5 * 60 * kMinute + std::uniform_int_distribution<int64_t>(0, 30 * kMinute)(rng);
    for (int k = 0; k < per_user; ++k) {
      ts += std::uniform_int_distribution<int64_t>(0, 12 * kMinute)(rng);
      if (ts > end) break;
      events.push_back({"u" + std::to_string(u),
                        "i" + std::to_string(std::uniform_int_distribution<int>(0, 9)(rng)),
                        std::uniform_int_distribution<int64_t>(1, 90)(rng),
                        static_cast<float>(std::uniform_int_distribution<int>(0, 8)(rng)) / 8, ts});
    }
  }
  // Interleave users, keeping each user's order (as one partition keeps it).
  std::stable_sort(events.begin(), events.end(),
                   [](const WatchEvent& a, const WatchEvent& b) { return a.ts < b.ts; });
  return events;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* kPoison[] = {
    R"({"userId": "u1", "itemId": "i1", "watchDurationMin": 3, "progress": 0.5, "ts": )",
    R"({"itemId": "i1", "watchDurationMin": 3, "progress": 0.5, "ts": 1763900000000})",
    R"({"userId": "u1", "itemId": "i1", "watchDurationMin": 3, "progress": "half", "ts": 1763900000000})",
};

class KafkaIngestTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(kafka_.ok()); }

  std::unique_ptr<QuiverdProcess> StartConsumer(const std::string& data_dir = "",
                                                const std::string& group = "quiver",
                                                std::vector<std::string> flags = {}) {
    if (std::find(flags.begin(), flags.end(), "--durability") == flags.end())
      flags.insert(flags.end(), {"--durability", "sync"});
    flags.insert(flags.end(),
                 {"--kafka-brokers", kafka_.bootstrap(), "--kafka-group", group, "--kafka-config",
                  "session.timeout.ms=6000,heartbeat.interval.ms=500"});
    auto server = std::make_unique<QuiverdProcess>(flags, 0, data_dir);
    EXPECT_TRUE(server->ok());
    return server;
  }

  void Apply(Client& client) {
    Result<ApplyResult> r = client.Apply(kDefinitions);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  bool Produce(const std::vector<WatchEvent>& events, bool poison = false) {
    std::vector<std::pair<std::string, std::string>> messages;
    for (const WatchEvent& e : events)
      messages.emplace_back(e.user, e.Json());
    if (poison) {
      for (const char* p : kPoison)
        messages.emplace_back("u1", p);
    }
    return kafka_.Produce("watch-events", messages);
  }

  // Waits until the servers together have consumed every message produced
  // (`messages`) and have no lag.
  // and their window changes are applied and durable up to `windows_through`.
  static void WaitConsumed(std::vector<Client*> clients, uint64_t messages,
                           int64_t windows_through = 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    uint64_t seen = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      seen = 0;
      int partitions = 0;
      bool lagging = false;
      for (Client* c : clients) {
        Result<ServerStatus> s = c->GetStatus();
        ASSERT_TRUE(s.ok()) << s.status().ToString();
        ASSERT_TRUE(s->kafka.has_value());
        lagging = lagging || s->kafka->windows_through_ms < windows_through;
        for (const KafkaPartitionStatus& p : s->kafka->partitions) {
          ++partitions;
          lagging = lagging || p.lag != 0 || (p.next_offset < 0 && p.high_watermark != 0);
          seen += p.next_offset > 0 ? static_cast<uint64_t>(p.next_offset) : 0;
        }
      }
      if (partitions == kPartitions && !lagging && seen == messages) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    FAIL() << "consumed " << seen << " of " << messages << " messages";
  }

  // Waits until at least `messages` are applied and durable.
  static void WaitApplied(Client& client, uint64_t messages,
                          std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    uint64_t applied = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      Result<ServerStatus> s = client.GetStatus();
      ASSERT_TRUE(s.ok());
      applied = 0;
      for (const KafkaPartitionStatus& p : s->kafka->partitions)
        applied += p.next_offset > 0 ? static_cast<uint64_t>(p.next_offset) : 0;
      if (applied >= messages) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL() << "applied " << applied << " of " << messages << " messages";
  }

  // user_activity of users u0..u{users-1}.
  static GetRequest AllUsers(int users) {
    GetRequest get{"user_activity", {}, {}};
    for (int u = 0; u < users; ++u)
      get.key_parts.push_back("u" + std::to_string(u));
    return get;
  }

  // user_activity of every user as of t, on one server.
  static std::vector<std::optional<Activity>> AsOf(Client& client, int users, int64_t t) {
    GetAsOfRequest req;
    req.view = "user_activity";
    req.key_parts = AllUsers(users).key_parts;
    req.as_of_ms = {t};
    Result<GetResult> r = client.GetAsOf(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::optional<Activity>> out;
    for (int u = 0; r.ok() && u < users; ++u)
      out.push_back(RowOf(*r, u));
    return out;
  }

  KafkaMock kafka_{1, {{"watch-events", kPartitions}, {"watch-events-dead", 1}}};
};

TEST_F(KafkaIngestTest, WindowsOnlineAsOfAndBackfillEqualTheTruth) {
  constexpr int kUsers = 40;
  const int64_t end = NowMs() - kMinute;
  const std::vector<WatchEvent> events = GenerateEvents(kUsers, 30, end, 7);
  auto server = StartConsumer();
  auto client = ConnectTo(*server);
  ASSERT_NE(client, nullptr);
  Apply(*client);
  ASSERT_TRUE(Produce(events, /*poison=*/true));
  WaitConsumed({client.get()}, events.size() + std::size(kPoison), NowMs());

  // Poison is counted per kind and skipped.
  Result<ServerStatus> status = client->GetStatus();
  ASSERT_TRUE(status.ok());
  std::map<std::string, uint64_t> malformed(status->kafka->malformed.begin(),
                                            status->kafka->malformed.end());
  EXPECT_EQ(malformed["bad_json"], 1u);
  EXPECT_EQ(malformed["missing_key"], 1u);
  EXPECT_EQ(malformed["wrong_type"], 1u);
  EXPECT_EQ(status->kafka->event_to_visible.count, 2 * events.size());
  EXPECT_GE(status->window_entities, static_cast<uint64_t>(kUsers));
  EXPECT_GT(status->window_bytes, status->window_entities * 64);
  // ... and copied to the dead-letter topic, saying why and from where.
  EXPECT_EQ(status->kafka->dead_lettered, std::size(kPoison));
  CommandResult dead;
  for (int attempt = 0; attempt < 50; ++attempt) {  // delivery is asynchronous
    dead = RunCommand("kcat -q -C -e -b " + kafka_.bootstrap() +
                      " -t watch-events-dead -f '%h|%s\\n'");
    if (std::count(dead.out.begin(), dead.out.end(), '\n') >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(dead.out.find("quiver-error=bad_json"), std::string::npos) << dead.out;
  EXPECT_NE(dead.out.find("quiver-error=missing_key"), std::string::npos) << dead.out;
  EXPECT_NE(dead.out.find("quiver-error=wrong_type"), std::string::npos) << dead.out;
  EXPECT_NE(dead.out.find("quiver-origin=watch-events/"), std::string::npos) << dead.out;
  EXPECT_NE(dead.out.find(kPoison[2]), std::string::npos) << dead.out;
  // The window states count against --max-memory, and the dead letters
  // did while librdkafka held them: they leave the budget once delivered.
  std::map<std::string, int64_t> memory;
  for (int attempt = 0; attempt < 50; ++attempt) {
    status = client->GetStatus();
    ASSERT_TRUE(status.ok());
    memory = {status->memory.begin(), status->memory.end()};
    if (memory["dead_letters"] == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(memory["dead_letters"], 0);
  EXPECT_EQ(memory["windows"], static_cast<int64_t>(status->window_bytes));

  // Online: each row is the truth at its own time, and no window change
  // between then and (a moment before) now was missed.
  const GetRequest get = AllUsers(kUsers);
  Result<GetResult> online = client->Get(get);
  ASSERT_TRUE(online.ok());
  for (int u = 0; u < kUsers; ++u) {
    const std::string user = "u" + std::to_string(u);
    ASSERT_TRUE(online->found(u)) << user;
    const auto truth_then = Truth(events, user, online->event_time_ms(u));
    EXPECT_EQ(Describe(RowOf(*online, u)), Describe(truth_then)) << user;
    EXPECT_EQ(Describe(Truth(events, user, online->server_time_ms() - 2000)), Describe(truth_then))
        << user << ": a window change was not applied online";
  }

  // The past, as of many times, from the history.
  std::vector<int64_t> times;
  for (int64_t t = end - 6 * 60 * kMinute; t <= end; t += 7 * kMinute + 13)
    times.push_back(t);
  for (int64_t t : times) {
    const auto rows = AsOf(*client, kUsers, t);
    ASSERT_EQ(rows.size(), static_cast<size_t>(kUsers));
    for (int u = 0; u < kUsers; ++u) {
      const std::string user = "u" + std::to_string(u);
      ASSERT_EQ(Describe(rows[u]), Describe(Truth(events, user, t))) << user << " as of " << t;
    }
  }

  // The per user-item view: the last progress of each pair.
  std::map<std::pair<std::string, std::string>, float> last;
  for (const WatchEvent& e : events)
    last[{e.user, e.item}] = e.progress;
  GetRequest pairs{"user_item_progress", {}, {}};
  for (const auto& [key, progress] : last) {
    pairs.key_parts.push_back(key.first);
    pairs.key_parts.push_back(key.second);
  }
  Result<GetResult> progress = client->Get(pairs);
  ASSERT_TRUE(progress.ok());
  size_t i = 0;
  for (const auto& [key, value] : last) {
    ASSERT_TRUE(progress->found(i));
    EXPECT_EQ(progress->column("watch_progress")->float32_value(i++), value);
  }

  // A backfill of the same events into a server without Kafka writes the
  // same history: zero skew.
  QuiverdProcess fresh;
  ASSERT_TRUE(fresh.ok());
  auto backfilled = ConnectTo(fresh);
  Apply(*backfilled);
  const std::string dir = MakeTempDir();
  {
    std::ofstream file(dir + "/events.jsonl");
    for (const WatchEvent& e : events)
      file << e.Json() << "\n";
    for (const char* p : kPoison)
      file << p << "\n";
  }
  const CommandResult run = RunCommand(QuiverCliPath() + " --port " + std::to_string(fresh.port()) +
                                       " backfill --view user_activity --from-file " + dir +
                                       "/events.jsonl" + " --batch-events 100");
  RunCommand("rm -rf " + dir);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("events     " + std::to_string(events.size()) + " applied of " +
                         std::to_string(events.size() + 3) + " read"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("malformed  3"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("events.jsonl:" + std::to_string(events.size() + 1) + ": not JSON"),
            std::string::npos)
      << run.out;
  for (int64_t t : times) {
    const auto streamed = AsOf(*client, kUsers, t);
    const auto replayed = AsOf(*backfilled, kUsers, t);
    for (int u = 0; u < kUsers; ++u)
      ASSERT_EQ(Describe(replayed[u]), Describe(streamed[u])) << "u" << u << " as of " << t;
  }

  // The other view, backfilled straight from the topic.
  const CommandResult from_topic =
      RunCommand(QuiverCliPath() + " --port " + std::to_string(fresh.port()) +
                 " backfill --view user_item_progress --from-topic watch-events --brokers " +
                 kafka_.bootstrap());
  ASSERT_EQ(from_topic.exit_code, 0) << from_topic.out;
  EXPECT_NE(from_topic.out.find("applied of " + std::to_string(events.size() + 3) + " read"),
            std::string::npos)
      << from_topic.out;
  EXPECT_NE(from_topic.out.find("malformed  3"), std::string::npos) << from_topic.out;
  Result<GetResult> replayed_progress = backfilled->Get(pairs);
  ASSERT_TRUE(replayed_progress.ok());
  for (size_t j = 0; j < last.size(); ++j) {
    ASSERT_TRUE(replayed_progress->found(j));
    EXPECT_EQ(replayed_progress->column("watch_progress")->float32_value(j),
              progress->column("watch_progress")->float32_value(j));
  }
}

// Two kills mid-stream and a broker outage: after each restart the consumer
// resumes from the offsets stored with its data, so every event counts
// exactly once.
TEST_F(KafkaIngestTest, ExactlyOnceAcrossCrashesAndABrokerOutage) {
  constexpr int kUsers = 60;
  const int64_t end = NowMs() - kMinute;
  const std::vector<WatchEvent> events = GenerateEvents(kUsers, 40, end, 11);
  const size_t n = events.size();
  auto part = [&](size_t from, size_t to) {
    return std::vector<WatchEvent>(events.begin() + from, events.begin() + to);
  };
  const std::string dir = MakeTempDir();
  auto server = StartConsumer(dir);
  auto client = ConnectTo(*server);
  Apply(*client);
  ASSERT_TRUE(Produce(part(0, n / 4)));

  for (int round = 0; round < 2; ++round) {
    // Kill once the next quarter has started to stream in.
    const size_t from = n / 4 * (round + 1), to = n / 4 * (round + 2);
    std::thread producer([&] { EXPECT_TRUE(Produce(part(from, to))); });
    WaitApplied(*client, from + 1);
    server->Kill();
    producer.join();
    server = StartConsumer(dir);
    client = ConnectTo(*server);
    ASSERT_NE(client, nullptr);
  }
  // The broker goes away and comes back; the consumer reconnects.
  ASSERT_TRUE(kafka_.BrokerDown(1));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_TRUE(kafka_.BrokerUp(1));
  ASSERT_TRUE(Produce(part(n / 4 * 3, n)));
  WaitConsumed({client.get()}, n, NowMs());

  const GetRequest get = AllUsers(kUsers);
  Result<GetResult> online = client->Get(get);
  ASSERT_TRUE(online.ok());
  for (int u = 0; u < kUsers; ++u) {
    const std::string user = "u" + std::to_string(u);
    EXPECT_EQ(Describe(RowOf(*online, u)), Describe(Truth(events, user, online->event_time_ms(u))))
        << user;
  }
  for (int64_t t = end - 5 * 60 * kMinute; t <= end; t += 11 * kMinute + 7) {
    const auto rows = AsOf(*client, kUsers, t);
    for (int u = 0; u < kUsers; ++u) {
      const std::string user = "u" + std::to_string(u);
      ASSERT_EQ(Describe(rows[u]), Describe(Truth(events, user, t))) << user << " as of " << t;
    }
  }
  server.reset();
  RunCommand("rm -rf " + dir);
}

// Writes refused (memory at --max-memory) pause ingestion: nothing of the
// stream is applied, the consumer stays in its group, and it resumes by
// itself once memory frees, every event counted once.
TEST_F(KafkaIngestTest, IngestionPausedAtTheMemoryLimitResumesWhenMemoryFrees) {
  constexpr int kUsers = 20;
  const std::vector<WatchEvent> events = GenerateEvents(kUsers, 10, NowMs() - kMinute, 5);
  // Without a history, whose memory changes with its flushes, the rows
  // decide alone whether writes fit.
  auto server = StartConsumer("", "quiver", {"--max-memory", "32MB", "--durability", "memory"});
  auto client = ConnectTo(*server);
  Apply(*client);
  ASSERT_TRUE(
      client
          ->Apply("entities: [{name: user, keys: [user_id]}]\n"
                  "views: [{name: filler, entity: user, fields: [{name: blob, type: bytes}]}]")
          .ok());
  // Fill the online table up to the limit.
  const std::string blob(128 << 10, 'x');
  std::vector<std::string> keys;
  for (int i = 0;; ++i) {
    ASSERT_LT(i, 1000) << "the memory limit never refused a write";
    WriteBatch batch("filler");
    batch.Row({"f" + std::to_string(i)}).SetBytes("blob", blob);
    Result<PutResult> put = client->Put(batch);
    if (!put.ok()) {
      ASSERT_EQ(put.status().code(), StatusCode::kResourceExhausted) << put.status().ToString();
      break;
    }
    keys.push_back("f" + std::to_string(i));
  }
  ASSERT_TRUE(Produce(events));
  auto kafka_status = [&] {
    Result<ServerStatus> s = client->GetStatus();
    EXPECT_TRUE(s.ok() && s->kafka.has_value());
    return s.ok() && s->kafka ? *s->kafka : KafkaStatus{};
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (kafka_status().paused.empty()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "ingestion did not pause";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const KafkaStatus paused = kafka_status();
  EXPECT_NE(paused.paused.find("OOM"), std::string::npos) << paused.paused;
  EXPECT_EQ(paused.versions, 0u) << "nothing is applied while writes are refused";

  Result<uint32_t> deleted = client->Delete("filler", keys);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  WaitConsumed({client.get()}, events.size());
  const KafkaStatus resumed = kafka_status();
  EXPECT_TRUE(resumed.paused.empty()) << resumed.paused;
  EXPECT_GE(resumed.pauses, 1u);
  Result<GetResult> online = client->Get(AllUsers(kUsers));
  ASSERT_TRUE(online.ok());
  for (int u = 0; u < kUsers; ++u) {
    const std::string user = "u" + std::to_string(u);
    EXPECT_EQ(Describe(RowOf(*online, u)), Describe(Truth(events, user, online->event_time_ms(u))))
        << user;
  }
}

// Two servers in one consumer group split the partitions; each serves the
// entities of its own, exactly.
TEST_F(KafkaIngestTest, TwoServersInOneGroupSplitThePartitions) {
  constexpr int kUsers = 40;
  const int64_t end = NowMs() - kMinute;
  const std::vector<WatchEvent> events = GenerateEvents(kUsers, 10, end, 5);
  auto a = StartConsumer("", "pair");
  auto b = StartConsumer("", "pair");
  auto ca = ConnectTo(*a), cb = ConnectTo(*b);
  ASSERT_NE(ca, nullptr);
  ASSERT_NE(cb, nullptr);
  Apply(*ca);
  Apply(*cb);
  // Both members hold partitions before any event is produced.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  size_t pa = 0, pb = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pa = ca->GetStatus()->kafka->partitions.size();
    pb = cb->GetStatus()->kafka->partitions.size();
    if (pa > 0 && pb > 0 && pa + pb == kPartitions) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(pa + pb, static_cast<size_t>(kPartitions));
  ASSERT_GT(pa, 0u);
  ASSERT_GT(pb, 0u);
  ASSERT_TRUE(Produce(events));
  WaitConsumed({ca.get(), cb.get()}, events.size(), NowMs());

  const GetRequest get = AllUsers(kUsers);
  Result<GetResult> ra = ca->Get(get), rb = cb->Get(get);
  ASSERT_TRUE(ra.ok());
  ASSERT_TRUE(rb.ok());
  int on_a = 0;
  for (int u = 0; u < kUsers; ++u) {
    const std::string user = "u" + std::to_string(u);
    ASSERT_NE(ra->found(u), rb->found(u)) << user << " must live on exactly one server";
    const GetResult& owner = ra->found(u) ? *ra : *rb;
    on_a += ra->found(u) ? 1 : 0;
    EXPECT_EQ(Describe(RowOf(owner, u)), Describe(Truth(events, user, owner.event_time_ms(u))))
        << user;
  }
  EXPECT_GT(on_a, 0);
  EXPECT_LT(on_a, kUsers);
}

// A batch is applied as soon as the consumer has taken what librdkafka
// fetched, however long --kafka-max-batch-ms would let it wait for more;
// --kafka-max-batch-events bounds it.
TEST_F(KafkaIngestTest, BatchesEndWhenNothingMoreIsFetchedOrWhenFull) {
  const std::vector<WatchEvent> events = GenerateEvents(10, 3, NowMs() - kMinute, 5);
  auto patient = StartConsumer("", "patient", {"--kafka-max-batch-ms", "60000"});
  // Each message feeds two views, so a batch holds one message.
  auto eager = StartConsumer("", "eager", {"--kafka-max-batch-events", "1"});
  auto cp = ConnectTo(*patient), ce = ConnectTo(*eager);
  ASSERT_NE(cp, nullptr);
  ASSERT_NE(ce, nullptr);
  Apply(*cp);
  Apply(*ce);
  for (Client* c : {cp.get(), ce.get()}) {  // both joined their groups
    WaitConsumed({c}, 0);
  }
  ASSERT_TRUE(Produce(events));
  // Well before a 60 s batch could have filled.
  WaitApplied(*cp, events.size(), std::chrono::seconds(30));
  WaitApplied(*ce, events.size());
  Result<ServerStatus> s = ce->GetStatus();
  ASSERT_TRUE(s.ok());
  EXPECT_GE(s->kafka->batches, events.size());
  const GetRequest get = AllUsers(10);
  Result<GetResult> rp = cp->Get(get), re = ce->Get(get);
  ASSERT_TRUE(rp.ok());
  ASSERT_TRUE(re.ok());
  for (int u = 0; u < 10; ++u) {
    const std::string user = "u" + std::to_string(u);
    EXPECT_EQ(Describe(RowOf(*rp, u)), Describe(Truth(events, user, rp->event_time_ms(u)))) << user;
    EXPECT_EQ(Describe(RowOf(*re, u)), Describe(Truth(events, user, re->event_time_ms(u)))) << user;
  }
}

}  // namespace
}  // namespace quiver::testing
