#include "service/feature_report.h"

#include <algorithm>
#include <cmath>

#include "protocol/json_text.h"
#include "protocol/timestamp.h"
#include "service/prometheus.h"
#include "util/rcu.h"

namespace quiver {

namespace {

constexpr std::pair<const char*, double> kQuantiles[] = {
    {"p01", 0.01}, {"p05", 0.05}, {"p25", 0.25}, {"p50", 0.5},
    {"p75", 0.75}, {"p95", 0.95}, {"p99", 0.99},
};

bool IsCategory(const Field& f) {
  return f.type.type == FieldType::kString;
}

void WriteMoments(const Moments& m, JsonWriter& w) {
  w.Key("mean").Number(m.count() ? m.mean() : NAN);
  w.Key("stddev").Number(m.count() ? m.stddev() : NAN);
  w.Key("min").Number(m.count() ? m.min() : NAN);
  w.Key("max").Number(m.count() ? m.max() : NAN);
}

void WriteQuantiles(const KllSketch& k, JsonWriter& w) {
  w.Key("quantiles").Open('{');
  for (const auto& [name, q] : kQuantiles)
    w.Key(name).Number(k.Quantile(q));
  w.Close();
}

// The type-specific part: numbers, lengths of strings and bytes, norms and
// dimensions of vectors.
void WriteValues(const Field& f, const FieldSummary& s, JsonWriter& w) {
  if (IsVariableWidth(f.type.type)) {
    w.Key("length").Open('{');
    WriteMoments(s.moments, w);
    w.Close();
  } else if (f.type.type == FieldType::kFloat32Vector) {
    w.Key("norm").Open('{');
    WriteMoments(s.moments, w);
    WriteQuantiles(s.quantiles, w);
    w.Close();
    w.Key("dims").Open('{').Key("mean").Open('[');
    for (size_t d = 0; d < s.dims.dims(); ++d)
      w.Number(s.dims.mean(d));
    w.Close().Key("stddev").Open('[');
    for (size_t d = 0; d < s.dims.dims(); ++d)
      w.Number(s.dims.stddev(d));
    w.Close().Close();
  } else {
    WriteMoments(s.moments, w);
    WriteQuantiles(s.quantiles, w);
  }
  if (f.type.type != FieldType::kFloat32Vector)
    w.Key("distinct").Uint(static_cast<uint64_t>(s.distinct.Estimate() + 0.5));
  if (IsCategory(f)) {
    w.Key("top").Open('[');
    for (const TopK::Entry& e : s.top.Top(10))
      w.Open('{')
          .Key("value")
          .String(e.value)
          .Key("count")
          .Uint(e.count)
          .Key("error")
          .Uint(e.error)
          .Close();
    w.Close();
  }
}

void WriteWindow(const Field& f, const FieldSummary& s, JsonWriter& w) {
  w.Open('{');
  w.Key("count").Uint(s.values).Key("nulls").Uint(s.nulls).Key("null_rate").Number(s.null_rate());
  w.Key("non_finite").Uint(s.non_finite);
  WriteValues(f, s, w);
  w.Key("violations").Open('{');
  w.Key("below_min").Uint(s.below_min).Key("above_max").Uint(s.above_max);
  w.Key("not_allowed").Uint(s.not_allowed).Close();
  w.Key("failing").Open('[');
  for (const std::string& check : FailingChecks(f, s))
    w.String(check);
  w.Close().Close();
}

void WriteChecks(const QualityChecks& c, JsonWriter& w) {
  w.Key("checks").Open('{');
  if (c.max_null_rate) w.Key("max_null_rate").Number(*c.max_null_rate);
  if (c.min) w.Key("min").Number(*c.min);
  if (c.max) w.Key("max").Number(*c.max);
  if (!c.allowed.empty()) {
    w.Key("allowed").Open('[');
    for (const std::string& a : c.allowed)
      w.String(a);
    w.Close();
  }
  w.Close();
}

}  // namespace

std::vector<std::string> FailingChecks(const Field& field, const FieldSummary& s) {
  std::vector<std::string> failing;
  if (s.below_min > 0) failing.emplace_back("min");
  if (s.above_max > 0) failing.emplace_back("max");
  if (s.not_allowed > 0) failing.emplace_back("allowed");
  if (field.checks.max_null_rate && s.null_rate() > *field.checks.max_null_rate)
    failing.emplace_back("max_null_rate");
  return failing;
}

std::string ViewStatsJson(const ViewSchema& view,
                          const std::optional<FeatureStats::Snapshot>& snapshot, int64_t now_ms,
                          int64_t recent_ms) {
  std::string out;
  JsonWriter w(&out);
  w.Open('{').Key("view").String(view.QualifiedName());
  w.Key("server_time").String(FormatTimestampMs(now_ms));
  if (snapshot) w.Key("counting_since").String(FormatTimestampMs(snapshot->started_ms));
  w.Key("recent_window_ms").Int(recent_ms);
  w.Key("rows").Open('{');
  w.Key("since_start").Uint(snapshot ? snapshot->since_start.rows : 0);
  w.Key("recent").Uint(snapshot ? snapshot->recent.rows : 0).Close();
  w.Key("fields").Open('[');
  for (size_t i = 0; i < view.fields.size(); ++i) {
    const Field& f = view.fields[i];
    w.Open('{').Key("name").String(f.name).Key("type").String(TypeName(f.type));
    WriteChecks(f.checks, w);
    if (snapshot) {
      w.Key("since_start");
      WriteWindow(f, snapshot->since_start.fields[i], w);
      w.Key("recent");
      WriteWindow(f, snapshot->recent.fields[i], w);
    }
    w.Close();
  }
  w.Close().Close();
  out.push_back('\n');
  return out;
}

void AppendFeatureMetrics(const std::vector<ViewStatsSample>& views, PrometheusText& out) {
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    double (*value)(const FieldSummary& since_start, const FieldSummary& recent);
  };
  static constexpr Family kFamilies[] = {
      {"quiver_feature_values_total", "counter", "Values written to a field since the start.",
       [](const FieldSummary& s, const FieldSummary&) { return double(s.values); }},
      {"quiver_feature_nulls_total", "counter",
       "Rows written without a value for a field since the start.",
       [](const FieldSummary& s, const FieldSummary&) { return double(s.nulls); }},
      {"quiver_feature_null_ratio", "gauge",
       "A field's share of nulls over the recent window (the last hour by default).",
       [](const FieldSummary&, const FieldSummary& h) { return h.null_rate(); }},
      {"quiver_feature_mean", "gauge",
       "Mean of a field's values over the recent window (lengths of strings, norms of vectors).",
       [](const FieldSummary&, const FieldSummary& h) {
         return h.moments.count() ? h.moments.mean() : NAN;
       }},
      {"quiver_feature_stddev", "gauge",
       "Standard deviation of a field's values over the recent window.",
       [](const FieldSummary&, const FieldSummary& h) {
         return h.moments.count() ? h.moments.stddev() : NAN;
       }},
  };
  for (const Family& fam : kFamilies) {
    out.Family(fam.name, fam.type, fam.help);
    for (const ViewStatsSample& v : views) {
      for (size_t i = 0; i < v.schema->fields.size(); ++i) {
        out.Sample(fam.name, {{"view", v.view}, {"field", v.schema->fields[i].name}},
                   fam.value(v.snapshot.since_start.fields[i], v.snapshot.recent.fields[i]));
      }
    }
  }
  out.Family("quiver_quality_violations_total", "counter",
             "Values written outside a field's quality checks since the start.");
  for (const ViewStatsSample& v : views) {
    for (size_t i = 0; i < v.schema->fields.size(); ++i) {
      const Field& f = v.schema->fields[i];
      const FieldSummary& s = v.snapshot.since_start.fields[i];
      const std::pair<const char*, uint64_t> checks[] = {
          {"min", f.checks.min ? s.below_min : UINT64_MAX},
          {"max", f.checks.max ? s.above_max : UINT64_MAX},
          {"allowed", f.checks.allowed.empty() ? UINT64_MAX : s.not_allowed}};
      for (const auto& [check, count] : checks) {
        if (count != UINT64_MAX)
          out.Sample("quiver_quality_violations_total",
                     {{"view", v.view}, {"field", f.name}, {"check", check}}, double(count));
      }
    }
  }
  out.Family("quiver_quality_failing", "gauge",
             "1 if a field fails a quality check over the recent window, per check it declares.");
  for (const ViewStatsSample& v : views) {
    for (size_t i = 0; i < v.schema->fields.size(); ++i) {
      const Field& f = v.schema->fields[i];
      const std::vector<std::string> failing = FailingChecks(f, v.snapshot.recent.fields[i]);
      auto sample = [&](const char* check, bool declared) {
        if (!declared) return;
        const bool fails = std::find(failing.begin(), failing.end(), check) != failing.end();
        out.Sample("quiver_quality_failing",
                   {{"view", v.view}, {"field", f.name}, {"check", check}}, fails ? 1 : 0);
      };
      sample("min", f.checks.min.has_value());
      sample("max", f.checks.max.has_value());
      sample("allowed", !f.checks.allowed.empty());
      sample("max_null_rate", f.checks.max_null_rate.has_value());
    }
  }
}

Status StatisticsOn(const FeatureStore& store) {
  if (store.stats() != nullptr) return Status::Ok();
  return Status::FailedPrecondition("statistics are off (quiverd --statistics false)");
}

Result<const ViewSchema*> ResolveStatsView(const FeatureStore& store, std::string_view view) {
  QUIVER_RETURN_IF_ERROR(StatisticsOn(store));
  return store.registry().current().ResolveName(view);
}

Result<std::string> ViewStatsDocument(const FeatureStore& store, std::string_view view) {
  rcu::ReadLock lock;
  QUIVER_ASSIGN_OR_RETURN(const ViewSchema* schema, ResolveStatsView(store, view));
  const int64_t now = store.NowMs();
  return ViewStatsJson(*schema, store.stats()->Take(*schema, now), now,
                       store.stats()->options().recent_ms);
}

std::vector<ViewStatsSample> SnapshotViews(const FeatureStore& store) {
  std::vector<ViewStatsSample> out;
  if (store.stats() == nullptr) return out;
  const int64_t now = store.NowMs();
  for (const auto& v : store.registry().current().views()) {
    std::optional<FeatureStats::Snapshot> snap = store.stats()->Take(*v, now);
    if (snap) out.push_back({v->QualifiedName(), v.get(), std::move(*snap)});
  }
  return out;
}

}  // namespace quiver
