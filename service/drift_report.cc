#include "service/drift_report.h"

#include <memory>

#include "protocol/json_text.h"
#include "protocol/timestamp.h"
#include "service/prometheus.h"
#include "storage/stats/baseline.h"
#include "util/rcu.h"

namespace quiver {

std::shared_ptr<const ViewBaseline> BaselineOf(const FeatureStore& store, const ViewSchema& view) {
  if (auto captured = store.baselines().Get(view.id)) return captured;
  ViewBaseline expected = ExpectedBaseline(view);
  if (expected.fields.empty()) return nullptr;
  return std::make_shared<const ViewBaseline>(std::move(expected));
}

namespace {

Status CheckWindow(std::string_view name) {
  if (name == "recent" || name == "since_start") return Status::Ok();
  return Status::InvalidArgument("unknown window '" + std::string(name) +
                                 "' (expected recent or since_start)");
}

// REQUIRES: name passed CheckWindow.
const WindowSummary* WindowOf(const FeatureStats::Snapshot& snap, std::string_view name) {
  return name == "recent" ? &snap.recent : &snap.since_start;
}

// Every field of the view with a baseline, measured against `window`
// (null: nothing written yet, every count 0).
std::vector<FieldDrift> Measure(const ViewSchema& view, const ViewBaseline& baseline,
                                const WindowSummary* window) {
  const FieldSummary empty;
  std::vector<FieldDrift> out;
  for (size_t i = 0; i < view.fields.size(); ++i) {
    const FieldBaseline* b = baseline.Find(view.fields[i].name);
    if (b == nullptr) continue;
    out.push_back(MeasureDrift(view.fields[i], *b, window ? window->fields[i] : empty));
  }
  return out;
}

void WriteStrings(const std::vector<std::string>& items, JsonWriter& w) {
  w.Open('[');
  for (const std::string& s : items)
    w.String(s);
  w.Close();
}

void WriteBaselineInfo(const ViewBaseline& b, JsonWriter& w) {
  w.Open('{').Key("source").String(b.source == ViewBaseline::Source::kCaptured ? "captured"
                                                                               : "expected");
  if (b.source == ViewBaseline::Source::kCaptured) {
    w.Key("captured_at").String(FormatTimestampMs(b.captured_ms)).Key("window").String(b.window);
  }
  w.Close();
}

void WriteField(const Field& f, const FieldDrift& d, JsonWriter& w) {
  w.Open('{').Key("name").String(d.field).Key("count").Uint(d.count);
  w.Key("judged").Bool(d.judged).Key("drifting").Bool(d.drifting);
  w.Key("psi").Number(d.psi).Key("ks").Number(d.ks);
  w.Key("mean_shift").Number(d.mean_shift).Key("stddev_ratio").Number(d.stddev_ratio);
  w.Key("exceeded");
  WriteStrings(d.exceeded, w);
  w.Key("new_categories");
  WriteStrings(d.new_categories, w);
  w.Key("thresholds").Open('{').Key("psi").Number(f.drift.psi).Key("ks").Number(f.drift.ks);
  w.Key("mean_shift").Number(f.drift.mean_shift).Key("min_count").Uint(f.drift.min_count);
  w.Close().Close();
}

void WriteView(const ViewSchema& view, const ViewBaseline& baseline,
               const std::vector<FieldDrift>& drift, JsonWriter& w) {
  w.Open('{').Key("view").String(view.QualifiedName()).Key("baseline");
  WriteBaselineInfo(baseline, w);
  w.Key("drifting").Open('[');
  for (const FieldDrift& d : drift) {
    if (d.drifting) w.String(d.field);
  }
  w.Close().Key("fields").Open('[');
  for (const FieldDrift& d : drift)
    WriteField(view.fields[view.FieldIndex(d.field)], d, w);
  w.Close().Close();
}

// Appends one view's drift; false if it has no baseline.
Result<bool> AppendView(const FeatureStore& store, const ViewSchema& view, std::string_view window,
                        int64_t now, JsonWriter& w) {
  std::shared_ptr<const ViewBaseline> baseline = BaselineOf(store, view);
  if (baseline == nullptr) return false;
  const std::optional<FeatureStats::Snapshot> snap = store.stats()->Take(view, now);
  WriteView(view, *baseline, Measure(view, *baseline, snap ? WindowOf(*snap, window) : nullptr), w);
  return true;
}

}  // namespace

Result<std::string> DriftDocument(const FeatureStore& store, std::string_view view,
                                  std::string_view window) {
  QUIVER_RETURN_IF_ERROR(StatisticsOn(store));
  QUIVER_RETURN_IF_ERROR(CheckWindow(window));
  rcu::ReadLock lock;
  const int64_t now = store.NowMs();
  std::string out;
  JsonWriter w(&out);
  w.Open('{').Key("server_time").String(FormatTimestampMs(now)).Key("window").String(window);
  w.Key("views").Open('[');
  if (!view.empty()) {
    QUIVER_ASSIGN_OR_RETURN(const ViewSchema* schema, ResolveStatsView(store, view));
    QUIVER_ASSIGN_OR_RETURN(bool has, AppendView(store, *schema, window, now, w));
    if (!has) {
      return Status::FailedPrecondition(
          "view " + schema->QualifiedName() +
          " has no drift baseline: capture one (quiver baseline capture " + schema->name +
          ") or declare expected statistics (mean and stddev) on its fields");
    }
  } else {
    for (const auto& v : store.registry().current().views())
      QUIVER_RETURN_IF_ERROR(AppendView(store, *v, window, now, w).status());
  }
  w.Close().Close();
  out.push_back('\n');
  return out;
}

Result<std::string> CaptureBaselineDocument(FeatureStore& store, std::string_view view,
                                            std::string_view window) {
  ViewBaseline baseline;
  std::string name;
  uint32_t id = 0;
  QUIVER_RETURN_IF_ERROR(CheckWindow(window));
  {
    rcu::ReadLock lock;
    QUIVER_ASSIGN_OR_RETURN(const ViewSchema* schema, ResolveStatsView(store, view));
    name = schema->QualifiedName();
    const int64_t now = store.NowMs();
    const std::optional<FeatureStats::Snapshot> snap = store.stats()->Take(*schema, now);
    if (snap) baseline = CaptureBaseline(*schema, *WindowOf(*snap, window), window, now);
    if (baseline.fields.empty()) {
      return Status::FailedPrecondition("no values of " + name + " in the " + std::string(window) +
                                        " window to capture a baseline from");
    }
    id = schema->id;
  }
  // Outside the read lock: storing waits for a commit.
  QUIVER_RETURN_IF_ERROR(store.baselines().Put(id, baseline));
  std::string out;
  JsonWriter w(&out);
  w.Open('{').Key("view").String(name).Key("baseline");
  WriteBaselineInfo(baseline, w);
  w.Key("fields").Open('[');
  for (const FieldBaseline& f : baseline.fields) {
    w.Open('{').Key("name").String(f.field).Key("count").Uint(f.count);
    w.Key("kind").String(f.kind == FieldBaseline::Kind::kCategorical ? "categorical" : "numeric");
    w.Close();
  }
  w.Close().Close();
  out.push_back('\n');
  return out;
}

Result<std::string> ClearBaselineDocument(FeatureStore& store, std::string_view view) {
  uint32_t id = 0;
  std::string name;
  {
    rcu::ReadLock lock;
    QUIVER_ASSIGN_OR_RETURN(const ViewSchema* schema, store.registry().current().ResolveName(view));
    id = schema->id;
    name = schema->QualifiedName();
  }
  QUIVER_RETURN_IF_ERROR(store.baselines().Put(id, ViewBaseline{}));
  std::string out;
  JsonWriter(&out).Open('{').Key("view").String(name).Key("cleared").Bool(true).Close();
  out.push_back('\n');
  return out;
}

std::vector<MeasuredDrift> MeasureRecentDrift(const FeatureStore& store,
                                              const std::vector<ViewStatsSample>& views) {
  std::vector<MeasuredDrift> measured;
  for (const ViewStatsSample& v : views) {
    if (auto baseline = BaselineOf(store, *v.schema))
      measured.push_back({&v, Measure(*v.schema, *baseline, &v.snapshot.recent)});
  }
  return measured;
}

void AppendDriftMetrics(const FeatureStore& store, const std::vector<ViewStatsSample>& views,
                        PrometheusText& out) {
  const std::vector<MeasuredDrift> measured = MeasureRecentDrift(store, views);
  struct Family {
    const char* name;
    const char* help;
    double (*value)(const FieldDrift&);
  };
  static constexpr Family kFamilies[] = {
      {"quiver_drift_psi",
       "Population stability index of a field's recent values against its baseline.",
       [](const FieldDrift& d) { return d.psi; }},
      {"quiver_drift_ks",
       "Kolmogorov-Smirnov statistic of a field's recent values against its baseline.",
       [](const FieldDrift& d) { return d.ks; }},
      {"quiver_drift_mean_shift",
       "Shift of a field's recent mean from its baseline's, in baseline stddevs.",
       [](const FieldDrift& d) { return d.mean_shift; }},
      {"quiver_feature_drifting", "1 if a field's recent values drift past its thresholds.",
       [](const FieldDrift& d) { return d.drifting ? 1.0 : 0.0; }},
  };
  for (const Family& fam : kFamilies) {
    out.Family(fam.name, "gauge", fam.help);
    for (const MeasuredDrift& m : measured) {
      for (const FieldDrift& d : m.fields) {
        if (d.count > 0)
          out.Sample(fam.name, {{"view", m.view->view}, {"field", d.field}}, fam.value(d));
      }
    }
  }
}

}  // namespace quiver
