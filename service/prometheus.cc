#include "service/prometheus.h"

#include <charconv>
#include <cmath>

namespace quiver {

namespace {

// Upper bounds of the exported buckets, in seconds.
constexpr double kBounds[] = {1e-6, 2.5e-6, 5e-6,   1e-5, 2.5e-5, 5e-5,   1e-4, 2.5e-4,
                              5e-4, 1e-3,   2.5e-3, 5e-3, 1e-2,   2.5e-2, 5e-2, 0.1,
                              0.25, 0.5,    1,      2.5,  5,      10};

void AppendEscaped(std::string_view value, std::string* out) {
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

std::string BoundText(double bound) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, bound);
  return std::string(buf, end);
}

}  // namespace

void PrometheusText::Family(std::string_view name, std::string_view type, std::string_view help) {
  text_.append("# HELP ").append(name).append(" ");
  for (char c : help) {  // HELP text escapes only backslash and newline
    if (c == '\\')
      text_.append("\\\\");
    else if (c == '\n')
      text_.append("\\n");
    else
      text_.push_back(c);
  }
  text_.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusText::Name(std::string_view name, std::string_view suffix, Labels labels,
                          std::pair<std::string_view, std::string_view> extra) {
  text_.append(name).append(suffix);
  if (labels.size() == 0 && extra.first.empty()) return;
  text_.push_back('{');
  bool first = true;
  auto add = [&](std::string_view key, std::string_view value) {
    if (!first) text_.push_back(',');
    first = false;
    text_.append(key).append("=\"");
    AppendEscaped(value, &text_);
    text_.push_back('"');
  };
  for (const auto& [key, value] : labels)
    add(key, value);
  if (!extra.first.empty()) add(extra.first, extra.second);
  text_.push_back('}');
}

void PrometheusText::Value(double v) {
  text_.push_back(' ');
  if (std::isnan(v)) {
    text_.append("NaN");
  } else if (std::isinf(v)) {
    text_.append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    text_.append(buf, end);
  }
  text_.push_back('\n');
}

void PrometheusText::Sample(std::string_view name, Labels labels, double value) {
  Name(name, "", labels);
  Value(value);
}

void PrometheusText::HistogramSamples(std::string_view name, Labels labels,
                                      const RequestMetrics::Totals& t) {
  size_t fine = 0;
  uint64_t below = 0;
  for (double bound : kBounds) {
    const auto bound_ns = static_cast<int64_t>(std::llround(bound * 1e9));
    for (; fine < t.buckets.size() && quiver::Histogram::UpperEdge(fine) <= bound_ns; ++fine)
      below += t.buckets[fine];
    Name(name, "_bucket", labels, {"le", BoundText(bound)});
    Value(static_cast<double>(below));
  }
  Name(name, "_bucket", labels, {"le", "+Inf"});
  Value(static_cast<double>(t.count));
  Name(name, "_sum", labels);
  Value(static_cast<double>(t.sum_ns) / 1e9);
  Name(name, "_count", labels);
  Value(static_cast<double>(t.count));
}

}  // namespace quiver
