// The time series of the dashboard and GET /v1/series: rates and
// percentiles of what happened between two samples alone, the views' rows
// and write rates, Kafka's lag, drift at its own interval, the span and
// `since` bounds.
#include "server/dashboard/series.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/server/dashboard/items_store.h"

namespace quiver::dashboard {
namespace {

simdjson::dom::element Parse(simdjson::dom::parser& parser, const Result<std::string>& json) {
  EXPECT_TRUE(json.ok()) << json.status().message();
  simdjson::dom::element doc;
  EXPECT_FALSE(parser.parse(*json).get(doc)) << *json;
  return doc;
}

std::vector<double> Numbers(simdjson::dom::element array) {
  std::vector<double> out;
  for (simdjson::dom::element v : array.get_array()) {
    double x = -1;
    if (v.is_null()) {
      x = -1;
    } else if (v.is_double()) {
      x = v.get_double().value();
    } else if (v.is_int64()) {
      x = static_cast<double>(v.get_int64().value());
    } else if (v.is_bool()) {
      x = v.get_bool().value() ? 1 : 0;
    }
    out.push_back(x);  // -1 stands for null
  }
  return out;
}

class FakeKafka : public IngestStatusSource {
 public:
  IngestStatus status() const override { return s; }
  IngestStatus s;
};

class SeriesTest : public ::testing::Test {
 protected:
  SeriesTest()
      : metrics_({std::vector<std::string>{"get", "put"}, {}, {}}, 1),
        series_({.metrics = metrics_, .store = items_.store(), .kafka = &kafka_},
                {.interval_ms = 1000, .span_ms = 20'000, .drift_interval_ms = 3000}) {}

  void Sample() { series_.Sample(items_.now_ms); }
  void Advance(int64_t ms) { items_.now_ms += ms; }

  ItemsStore items_;
  RequestMetrics metrics_;
  FakeKafka kafka_;
  Series series_;
  simdjson::dom::parser parser_;
};

TEST_F(SeriesTest, RequestRatesAndPercentilesAreOfEachIntervalAlone) {
  RequestMetrics::Recorder& r = metrics_.recorder(0);
  for (int i = 0; i < 10; ++i)
    r.Record(FrontEnd::kNative, 0, 1'000, false);  // 1 µs each, before the first sample
  Sample();
  Advance(2000);
  for (int i = 0; i < 20; ++i)
    r.Record(FrontEnd::kNative, 0, 100'000, i < 4);  // 100 µs, 4 of them failed
  Sample();
  Advance(2000);
  Sample();
  auto doc = Parse(parser_, series_.Json("requests", "", 0));
  EXPECT_EQ(Numbers(doc["t"]).size(), 3u);
  auto kinds = doc["requests"].get_array();
  ASSERT_EQ(kinds.size(), 1u);  // put never served
  auto get = kinds.at(0);
  EXPECT_EQ(get["front_end"].get_string().value(), "native");
  EXPECT_EQ(get["kind"].get_string().value(), "get");
  // The first sample has nothing before it; the third saw nothing.
  EXPECT_EQ(Numbers(get["rate"]), (std::vector<double>{0, 10, 0}));
  EXPECT_EQ(Numbers(get["error_rate"]), (std::vector<double>{0, 2, 0}));
  const std::vector<double> p99 = Numbers(get["p99_us"]);
  EXPECT_EQ(p99[0], -1);
  EXPECT_NEAR(p99[1], 100, 100 / 16.0);  // within the histogram's 6.25%, 1 µs ones excluded
  EXPECT_EQ(p99[2], -1);
  EXPECT_NEAR(Numbers(get["p50_us"])[1], 100, 100 / 16.0);
}

TEST_F(SeriesTest, ViewsCarryRowsFreshnessAndWriteRates) {
  ASSERT_TRUE(items_.Write(0, 5, 10, {"drama"}).ok());
  Sample();
  Advance(2000);
  ASSERT_TRUE(items_.Write(5, 20, 10, {"drama"}).ok());
  Advance(9'000);  // the first 5 rows are 11 s old: past the 10 s freshness SLA
  Sample();
  auto doc = Parse(parser_, series_.Json("views", "items", 0));
  auto views = doc["views"].get_array();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views.at(0)["view"].get_string().value(), "items@v1");
  EXPECT_EQ(Numbers(views.at(0)["rows"]), (std::vector<double>{5, 25}));
  EXPECT_EQ(Numbers(views.at(0)["past_sla"]), (std::vector<double>{0, 5}));
  const std::vector<double> rate = Numbers(views.at(0)["write_rate"]);
  ASSERT_EQ(rate.size(), 2u);
  EXPECT_EQ(rate[0], 0);
  EXPECT_NEAR(rate[1], 20 / 11.0, 1e-3);
  EXPECT_GT(Numbers(views.at(0)["memory_bytes"])[1], 0);
  EXPECT_GE(Numbers(views.at(0)["age_p50_ms"])[1], 9'000);
  EXPECT_GE(Numbers(views.at(0)["age_p99_ms"])[1], 11'000);
  // Another view's name keeps none; "items@v1" is the same as "items".
  EXPECT_EQ(Parse(parser_, series_.Json("views", "other", 0))["views"].get_array().size(), 0u);
  EXPECT_EQ(Parse(parser_, series_.Json("views", "items@v1", 0))["views"].get_array().size(), 1u);
}

TEST_F(SeriesTest, SamplesOlderThanTheSpanGoAndSinceKeepsTheNewerOnes) {
  for (int i = 0; i < 25; ++i) {
    Sample();
    Advance(1000);
  }
  EXPECT_EQ(series_.samples(), 20u);  // a 20 s span of 1 s samples
  auto doc = Parse(parser_, series_.Json("memory", "", 0));
  const std::vector<double> t = Numbers(doc["t"]);
  ASSERT_EQ(t.size(), 20u);
  EXPECT_EQ(Numbers(doc["rows"]).size(), 20u);
  EXPECT_EQ(Numbers(doc["memory"]["rows"]).size(), 20u);
  auto newer = Parse(parser_, series_.Json("memory", "", static_cast<int64_t>(t[17])));
  EXPECT_EQ(Numbers(newer["t"]), (std::vector<double>{t[18], t[19]}));
}

TEST_F(SeriesTest, KafkaLagAndRatesPerPartition) {
  kafka_.s.running = true;
  kafka_.s.partitions = {{.topic = "watch", .partition = 0, .lag = 40},
                         {.topic = "watch", .partition = 1, .lag = -1}};  // unknown yet
  Sample();
  Advance(2000);
  kafka_.s.messages = 100;
  kafka_.s.events = 80;
  kafka_.s.dead_lettered = 6;
  kafka_.s.malformed[1] = 10;
  kafka_.s.partitions[0].lag = 10;
  kafka_.s.partitions[1].lag = 3;
  Sample();
  auto doc = Parse(parser_, series_.Json("kafka", "", 0));
  EXPECT_TRUE(doc["ingesting"].get_bool().value());
  EXPECT_EQ(Numbers(doc["message_rate"]), (std::vector<double>{0, 50}));
  EXPECT_EQ(Numbers(doc["event_rate"]), (std::vector<double>{0, 40}));
  EXPECT_EQ(Numbers(doc["malformed_rate"]), (std::vector<double>{0, 5}));
  EXPECT_EQ(Numbers(doc["dead_letter_rate"]), (std::vector<double>{0, 3}));
  auto partitions = doc["partitions"].get_array();
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_EQ(partitions.at(0)["partition"].get_string().value(), "watch/0");
  EXPECT_EQ(Numbers(partitions.at(0)["lag"]), (std::vector<double>{40, 10}));
  EXPECT_EQ(Numbers(partitions.at(1)["lag"]), (std::vector<double>{-1, 3}));
}

TEST_F(SeriesTest, DriftIsSampledAtItsOwnIntervalAndFlagsAShift) {
  ASSERT_TRUE(items_.Write(0, 300, 10, {"drama"}).ok());  // as expected: mean 10
  Sample();
  Advance(1000);
  Sample();  // no drift sample: the drift interval is 3 s
  Advance(2000);
  ASSERT_TRUE(items_.Write(300, 3000, 30, {"drama"}).ok());  // ten stddevs higher
  Sample();
  auto doc = Parse(parser_, series_.Json("drift", "items", 0));
  EXPECT_EQ(doc["interval_ms"].get_int64().value(), 3000);
  EXPECT_EQ(Numbers(doc["t"]).size(), 2u);
  auto fields = doc["fields"].get_array();
  ASSERT_EQ(fields.size(), 1u);  // only price has a baseline
  EXPECT_EQ(fields.at(0)["field"].get_string().value(), "price");
  EXPECT_EQ(Numbers(fields.at(0)["drifting"]), (std::vector<double>{0, 1}));
  const std::vector<double> shift = Numbers(fields.at(0)["mean_shift"]);
  EXPECT_LT(shift[0], 1);
  EXPECT_GT(shift[1], 5);
}

TEST_F(SeriesTest, AnUnknownPartIsRefused) {
  const Result<std::string> doc = series_.Json("cpu", "", 0);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(doc.status().message().find("expected requests, memory, views, kafka or drift"),
            std::string::npos);
}

TEST_F(SeriesTest, TheSamplerThreadSamplesUntilStopped) {
  Series series({.metrics = metrics_, .store = items_.store()},
                {.interval_ms = 100, .span_ms = 60'000, .drift_interval_ms = 1000});
  series.Start();
  // The first sample is taken at once; the wait ends on it, not on a time.
  while (series.samples() == 0)
    std::this_thread::yield();
  series.Stop();
  const size_t taken = series.samples();
  EXPECT_GE(taken, 1u);
  series.Stop();  // twice is harmless
  EXPECT_EQ(series.samples(), taken);
}

}  // namespace
}  // namespace quiver::dashboard
