// `quiver stats` and `quiver freshness`: the server's monitoring documents
// (the JSON its HTTP port serves), as tables or, with --json, as they are.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <simdjson.h>

#include "client/cli/commands.h"

namespace quiver::cli {

namespace {

using simdjson::dom::element;

// The value of a member, or `fallback` if it is missing or of another type.
template <typename T>
T Get(simdjson::simdjson_result<element> e, T fallback = {}) {
  T v;
  return e.get(v) == simdjson::SUCCESS ? v : fallback;
}

// A number as a table cell: 4 significant digits, "-" for null.
std::string Cell(simdjson::simdjson_result<element> e) {
  double v = 0;
  if (e.get_double().get(v)) return "-";
  std::ostringstream s;
  s << std::setprecision(4) << v;
  return s.str();
}

std::string Percent(simdjson::simdjson_result<element> e) {
  double v = 0;
  if (e.get_double().get(v)) return "-";
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << v * 100 << "%";
  return s.str();
}

// 3600000 -> "1h", 90000 -> "90s".
std::string Span(int64_t ms) {
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string Join(simdjson::dom::array items) {
  std::string out;
  for (element item : items) {
    std::string_view s;
    if (item.get_string().get(s)) continue;
    out += (out.empty() ? "" : ",") + std::string(s);
  }
  return out;
}

// The type-specific summary of a field's window: the distribution of its
// numbers (or string lengths, or vector norms), then its top categories.
std::string Distribution(element w) {
  element values = w;
  std::string prefix;
  if (element e; !w["norm"].get(e)) {
    values = e;
    prefix = "norm ";
  } else if (!w["length"].get(e)) {
    values = e;
    prefix = "length ";
  }
  std::string out = prefix + "mean " + Cell(values["mean"]) + " sd " + Cell(values["stddev"]) +
                    " [" + Cell(values["min"]) + ", " + Cell(values["max"]) + "]";
  if (element q; !values["quantiles"].get(q))
    out += " p50 " + Cell(q["p50"]) + " p99 " + Cell(q["p99"]);
  simdjson::dom::array top;
  if (!w["top"].get(top) && top.size() > 0) {
    out += "  top:";
    size_t shown = 0;
    for (element t : top) {
      if (shown++ == 3) break;
      out += " " + std::string(Get<std::string_view>(t["value"])) + " " +
             std::to_string(Get<uint64_t>(t["count"]));
    }
  }
  return out;
}

Result<simdjson::dom::element> Parse(simdjson::dom::parser& parser, const std::string& json) {
  element doc;
  if (auto error = parser.parse(json).get(doc)) {
    return Status::ProtocolError(std::string("the server's document is not JSON: ") +
                                 simdjson::error_message(error));
  }
  return doc;
}

void PrintStatsTable(element doc, const std::string& window) {
  std::string_view since;
  std::cout << Get<std::string_view>(doc["view"]) << ": " << Get<uint64_t>(doc["rows"][window])
            << " rows written "
            << (window == "recent" ? "in the last " + Span(Get<int64_t>(doc["recent_window_ms"]))
                                   : std::string("since the start"));
  if (!doc["counting_since"].get(since)) std::cout << " (counting since " << since << ")";
  std::cout << "\n\n";
  std::cout << std::left << std::setw(20) << "FIELD" << std::setw(12) << "TYPE" << std::right
            << std::setw(10) << "COUNT" << std::setw(8) << "NULLS" << std::setw(10) << "DISTINCT"
            << "  " << std::left << std::setw(12) << "FAILING"
            << "DISTRIBUTION\n";
  simdjson::dom::array fields;
  if (doc["fields"].get(fields)) return;
  for (element f : fields) {
    element w;
    std::cout << std::left << std::setw(20) << Get<std::string_view>(f["name"]) << std::setw(12)
              << Get<std::string_view>(f["type"]) << std::right;
    if (f[window].get(w)) {
      std::cout << std::setw(10) << 0 << "\n";
      continue;
    }
    const auto count = Get<uint64_t>(w["count"]);
    simdjson::dom::array failing;
    const std::string fails = w["failing"].get(failing) ? "" : Join(failing);
    std::cout << std::setw(10) << count << std::setw(8) << Percent(w["null_rate"]) << std::setw(10)
              << Cell(w["distinct"]) << "  " << std::left << std::setw(12)
              << (fails.empty() ? "-" : fails) << Distribution(w) << "\n";
  }
}

void PrintFreshnessTable(element doc) {
  std::cout << std::left << std::setw(28) << "VIEW" << std::right << std::setw(10) << "ROWS"
            << std::setw(9) << "EXPIRED" << std::setw(10) << "SLA" << std::setw(10) << "PAST SLA"
            << std::setw(12) << "AGE p50" << std::setw(12) << "p99" << std::setw(12) << "max"
            << "\n";
  auto seconds = [](simdjson::simdjson_result<element> e) {
    int64_t ms = 0;
    if (e.get_int64().get(ms)) return std::string("-");
    std::ostringstream s;
    s << std::setprecision(3) << ms / 1000.0 << "s";
    return s.str();
  };
  simdjson::dom::array views;
  if (doc["views"].get(views)) return;
  for (element v : views) {
    const auto sla = Get<int64_t>(v["sla_ms"]);
    std::cout << std::left << std::setw(28) << Get<std::string_view>(v["view"]) << std::right
              << std::setw(10) << Get<uint64_t>(v["rows"]) << std::setw(9)
              << Get<uint64_t>(v["expired"]) << std::setw(10)
              << (sla > 0 ? seconds(v["sla_ms"]) : "none") << std::setw(10)
              << (sla > 0 ? Percent(v["past_sla_ratio"]) : "-") << std::setw(12)
              << seconds(v["age_ms"]["p50"]) << std::setw(12) << seconds(v["age_ms"]["p99"])
              << std::setw(12) << seconds(v["age_ms"]["max"]) << "\n";
  }
}

void PrintDriftTable(element doc) {
  std::cout << std::left << std::setw(28) << "VIEW" << std::setw(20) << "FIELD" << std::right
            << std::setw(9) << "COUNT" << std::setw(9) << "PSI" << std::setw(9) << "KS"
            << std::setw(9) << "SHIFT"
            << "  " << std::left << "STATUS\n";
  simdjson::dom::array views;
  if (doc["views"].get(views)) return;
  for (element v : views) {
    const auto name = Get<std::string_view>(v["view"]);
    const std::string baseline = std::string(Get<std::string_view>(v["baseline"]["source"]));
    simdjson::dom::array fields;
    if (v["fields"].get(fields)) continue;
    for (element f : fields) {
      std::string status = Get<bool>(f["drifting"])  ? "DRIFTING"
                           : !Get<bool>(f["judged"]) ? "too few values"
                                                     : "ok";
      simdjson::dom::array exceeded, added;
      if (!f["exceeded"].get(exceeded) && exceeded.size() > 0)
        status += " (" + Join(exceeded) + ")";
      if (!f["new_categories"].get(added) && added.size() > 0) status += " new: " + Join(added);
      std::cout << std::left << std::setw(28) << name << std::setw(20)
                << Get<std::string_view>(f["name"]) << std::right << std::setw(9)
                << Get<uint64_t>(f["count"]) << std::setw(9) << Cell(f["psi"]) << std::setw(9)
                << Cell(f["ks"]) << std::setw(9) << Cell(f["mean_shift"]) << "  " << status << "  ["
                << baseline << "]\n";
    }
  }
}

// Fetches a document and prints it as JSON or through `table`.
template <typename Table>
int Show(const ClientOptions& options, MonitoringKind kind, std::string_view view, bool json,
         Table table, std::string_view window = {}) {
  auto client = Client::Connect(options);
  if (!client.ok()) return Fail(client.status());
  Result<std::string> doc = (*client)->Monitoring(kind, view, window);
  if (!doc.ok()) return Fail(doc.status());
  if (json) {
    std::cout << *doc;
    return 0;
  }
  simdjson::dom::parser parser;
  Result<element> parsed = Parse(parser, *doc);
  if (!parsed.ok()) return Fail(parsed.status());
  table(*parsed);
  return 0;
}

}  // namespace

int ShowStats(const ClientOptions& options, const std::string& view, const std::string& window,
              bool json) {
  if (window != "recent" && window != "since_start")
    return Fail(Status::InvalidArgument("--window: expected recent or since_start"));
  return Show(options, MonitoringKind::kStats, view, json,
              [&](element doc) { PrintStatsTable(doc, window); });
}

int ShowFreshness(const ClientOptions& options, bool json) {
  return Show(options, MonitoringKind::kFreshness, {}, json, PrintFreshnessTable);
}

int ShowDrift(const ClientOptions& options, const std::string& view, const std::string& window,
              bool json) {
  return Show(options, MonitoringKind::kDrift, view, json, PrintDriftTable, window);
}

int Baseline(const ClientOptions& options, const std::string& action, const std::string& view,
             const std::string& window) {
  const bool capture = action == "capture";
  if (!capture && action != "clear")
    return Fail(
        Status::InvalidArgument("baseline: expected capture or clear, got '" + action + "'"));
  auto print = [&](element doc) {
    if (!capture) {
      std::cout << "cleared the captured baseline of " << Get<std::string_view>(doc["view"])
                << "\n";
      return;
    }
    std::cout << "captured the baseline of " << Get<std::string_view>(doc["view"]) << " from its "
              << Get<std::string_view>(doc["baseline"]["window"]) << " window:";
    simdjson::dom::array fields;
    if (!doc["fields"].get(fields)) {
      for (element f : fields)
        std::cout << " " << Get<std::string_view>(f["name"]) << " (" << Get<uint64_t>(f["count"])
                  << ")";
    }
    std::cout << "\n";
  };
  return Show(options, capture ? MonitoringKind::kCaptureBaseline : MonitoringKind::kClearBaseline,
              view, false, print, window);
}

}  // namespace quiver::cli
