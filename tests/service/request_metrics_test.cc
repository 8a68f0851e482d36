// RequestMetrics: per-thread recorders summed exactly, percentiles within
// the bucket bound, while readers collect concurrently (run under TSan);
// PrometheusText's escaping and cumulative histogram buckets.
#include "service/request_metrics.h"

#include <thread>

#include <gtest/gtest.h>

#include "service/prometheus.h"

namespace quiver {
namespace {

RequestMetrics Make(size_t threads) {
  return RequestMetrics({std::vector<std::string>{"get", "put"}, {"ping"}, {}}, threads);
}

TEST(RequestMetricsTest, SumsEveryThreadsRecorderWhileReadersCollect) {
  RequestMetrics metrics({std::vector<std::string>{"get", "put"}, {"ping"}, {}}, 2);
  constexpr int kEach = 20000;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      for (const auto& k : metrics.Collect())
        EXPECT_LE(k.totals.errors, k.totals.count);
    }
  });
  std::vector<std::thread> writers;
  for (size_t t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      RequestMetrics::Recorder& r = metrics.recorder(t);
      for (int i = 1; i <= kEach; ++i) {
        r.Record(FrontEnd::kNative, 0, i, i % 10 == 0);  // 1..20000 ns
        r.Record(FrontEnd::kNative, 7, 1, false);        // no such kind: ignored
      }
      r.RecordCommitWait(FrontEnd::kResp, 5000);
    });
  }
  for (auto& w : writers)
    w.join();
  done = true;
  reader.join();
  const auto kinds = metrics.Collect();
  ASSERT_EQ(kinds.size(), 1u) << "kinds never recorded are left out";
  EXPECT_EQ(kinds[0].kind, "get");
  EXPECT_EQ(kinds[0].front_end, FrontEnd::kNative);
  const RequestMetrics::Totals& t = kinds[0].totals;
  EXPECT_EQ(t.count, 2u * kEach);
  EXPECT_EQ(t.errors, 2u * kEach / 10);
  EXPECT_EQ(t.sum_ns, 2ull * kEach * (kEach + 1) / 2);
  EXPECT_EQ(t.max_ns, kEach);
  const Histogram::Summary s = t.Summarize();
  EXPECT_GE(s.p50, kEach / 2);
  EXPECT_LE(s.p50, kEach / 2 * 17 / 16 + 1);
  EXPECT_GE(s.p99, kEach * 99 / 100);
  EXPECT_LE(s.p99, kEach);
  EXPECT_EQ(metrics.CommitWaits(FrontEnd::kResp).count, 2u);
  EXPECT_EQ(metrics.CommitWaits(FrontEnd::kNative).count, 0u);
}

TEST(PrometheusTextTest, EscapesAndWritesCumulativeBuckets) {
  RequestMetrics metrics = Make(1);
  metrics.recorder(0).Record(FrontEnd::kNative, 1, 500, false);             // 0.5 µs
  metrics.recorder(0).Record(FrontEnd::kNative, 1, 3'000'000, true);        // 3 ms
  metrics.recorder(0).Record(FrontEnd::kNative, 1, 20'000'000'000, false);  // 20 s
  const auto kinds = metrics.Collect();
  ASSERT_EQ(kinds.size(), 1u);
  PrometheusText out;
  out.Family("x_seconds", "histogram", "Help with a \\ and a\nnewline.");
  out.HistogramSamples("x_seconds", {{"kind", "a\"b\\c\nd"}}, kinds[0].totals);
  const std::string& text = out.text();
  EXPECT_NE(text.find("# HELP x_seconds Help with a \\\\ and a\\nnewline.\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE x_seconds histogram\n"), std::string::npos);
  const std::string labels = "kind=\"a\\\"b\\\\c\\nd\"";
  EXPECT_NE(text.find("x_seconds_bucket{" + labels + ",le=\"1e-06\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("x_seconds_bucket{" + labels + ",le=\"0.0025\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_bucket{" + labels + ",le=\"0.005\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_bucket{" + labels + ",le=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_bucket{" + labels + ",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_count{" + labels + "} 3\n"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_sum{" + labels + "} 20.0030005\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace quiver
