// PrometheusText: builds the Prometheus text exposition format (version
// 0.0.4), as GET /metrics serves it: each family's # HELP and # TYPE once,
// then its samples, label values escaped.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "service/request_metrics.h"

namespace quiver {

class PrometheusText {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // Starts a family; type is counter, gauge, histogram or summary.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, Labels labels, double value);
  // A histogram's samples from RequestMetrics totals (nanoseconds), in
  // seconds: cumulative buckets from 1 µs to 10 s and +Inf, _sum, _count.
  // A bucket's count includes the fine buckets (Histogram's) wholly below
  // its bound, so it may miss values up to 6.25% under the bound.
  void HistogramSamples(std::string_view name, Labels labels, const RequestMetrics::Totals& t);

  const std::string& text() const { return text_; }

 private:
  void Name(std::string_view name, std::string_view suffix, Labels labels,
            std::pair<std::string_view, std::string_view> extra = {});
  void Value(double v);
  std::string text_;
};

}  // namespace quiver
