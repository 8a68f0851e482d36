#include "server/dashboard/series.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "protocol/json_text.h"
#include "service/drift_report.h"
#include "service/feature_report.h"
#include "util/rcu.h"
#include "util/thread_name.h"

namespace quiver::dashboard {

namespace {

constexpr std::string_view kParts[] = {"requests", "memory", "views", "kafka", "drift"};

double PerSecond(uint64_t now, uint64_t before, double seconds) {
  return seconds > 0 && now >= before ? static_cast<double>(now - before) / seconds : 0.0;
}

// p50/p99/p999 of what a histogram's counts gained since `before`.
Histogram::Summary SummarizeGain(std::span<const uint64_t> now, std::span<const uint64_t> before) {
  std::vector<uint64_t> gained(now.size());
  for (size_t i = 0; i < now.size(); ++i)
    gained[i] = i < before.size() && now[i] >= before[i] ? now[i] - before[i] : now[i];
  return Histogram::Summarize(gained, INT64_MAX);  // percentiles: their buckets' upper edges
}

uint64_t MalformedTotal(const IngestStatus& s) {
  uint64_t total = 0;
  for (uint64_t n : s.malformed)
    total += n;
  return total;
}

// "name@vN" or "name" (every version) matches the view "name@vN".
bool ViewMatches(std::string_view wanted, std::string_view qualified) {
  if (wanted.empty() || wanted == qualified) return true;
  const size_t at = qualified.rfind('@');
  return wanted.find('@') == std::string_view::npos && qualified.substr(0, at) == wanted;
}

}  // namespace

Series::Series(Sources sources, SeriesOptions options) : sources_(sources), options_(options) {}

Series::~Series() {
  Stop();
}

void Series::Start() {
  thread_ = std::thread([this] {
    NameThisThread("series");
    rcu::ThreadRegistration registration;
    Loop();
  });
}

void Series::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Series::Loop() {
  using Clock = std::chrono::steady_clock;
  const auto every = std::chrono::milliseconds(options_.interval_ms);
  auto next = Clock::now();
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stop_cv_.wait_until(lock, next, [this] { return stopping_; })) {
    lock.unlock();
    Sample(sources_.store.NowMs());
    next = std::max(next + every, Clock::now());  // a slow sample skips, never bunches up
    lock.lock();
  }
}

size_t Series::samples() const {
  std::lock_guard<std::mutex> lock(mu_);
  return points_.size();
}

uint32_t Series::Intern(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = name_index_.try_emplace(name, static_cast<uint32_t>(names_.size()));
  if (added) names_.push_back(name);
  return it->second;
}

void Series::Sample(int64_t now_ms) {
  std::lock_guard<std::mutex> sampling(sample_mu_);
  const double seconds = previous_.t < 0 ? 0.0 : static_cast<double>(now_ms - previous_.t) / 1000.0;
  Point p;
  p.t = now_ms;
  p.requests = SampleRequests(seconds);
  const MemoryBudget& budget = sources_.store.table().budget();
  for (size_t i = 0; i < kMemoryParts; ++i)
    p.memory[i] = budget.bytes(static_cast<MemoryPart>(i));
  p.rows = sources_.store.table().size();
  p.views = SampleViews(now_ms, seconds);
  if (sources_.kafka != nullptr) p.kafka = SampleKafka(seconds);
  previous_.t = now_ms;
  std::optional<DriftPoint> drift;
  if (now_ms >= next_drift_ms_ && sources_.store.stats() != nullptr) {
    drift = SampleDrift(now_ms);
    next_drift_ms_ = now_ms + options_.drift_interval_ms;
  }
  std::lock_guard<std::mutex> lock(mu_);
  points_.push_back(std::move(p));
  while (!points_.empty() &&
         (points_.front().t <= now_ms - options_.span_ms || points_.size() > kMaxSamples))
    points_.pop_front();
  if (drift) drift_.push_back(std::move(*drift));
  while (!drift_.empty() &&
         (drift_.front().t <= now_ms - options_.span_ms || drift_.size() > kMaxDriftSamples))
    drift_.pop_front();
}

std::vector<Series::RequestPoint> Series::SampleRequests(double seconds) {
  std::vector<RequestPoint> out;
  for (RequestMetrics::KindTotals& k : sources_.metrics.Collect()) {
    const int fe = static_cast<int>(k.front_end);
    RequestMetrics::Totals& before = previous_.requests[{fe, std::string(k.kind)}];
    if (previous_.t >= 0 && k.totals.count > before.count) {
      const Histogram::Summary s = SummarizeGain(k.totals.buckets, before.buckets);
      out.push_back(
          {.front_end = static_cast<uint8_t>(fe),
           .kind = Intern(std::string(k.kind)),
           .rate = static_cast<float>(PerSecond(k.totals.count, before.count, seconds)),
           .error_rate = static_cast<float>(PerSecond(k.totals.errors, before.errors, seconds)),
           .p50_us = static_cast<float>(s.p50) / 1000.0f,
           .p99_us = static_cast<float>(s.p99) / 1000.0f,
           .p999_us = static_cast<float>(s.p999) / 1000.0f});
    }
    before = std::move(k.totals);
  }
  return out;
}

std::vector<Series::ViewPoint> Series::SampleViews(int64_t now_ms, double seconds) {
  if (now_ms >= next_freshness_ms_) {
    const int64_t started = MonotonicNs();
    freshness_ = MeasureFreshness(sources_.store);
    const int64_t took_ms = (MonotonicNs() - started) / 1'000'000;
    next_freshness_ms_ = now_ms + kFreshnessShare * took_ms;
  }
  const std::vector<ViewFreshness>& fresh = freshness_;
  std::map<std::string, uint64_t> written;
  if (const FeatureStats* stats = sources_.store.stats()) {
    rcu::ReadLock lock;
    for (const auto& v : sources_.store.registry().current().views())
      written[v->QualifiedName()] = stats->RowsWritten(*v);
  }
  std::vector<ViewPoint> out;
  for (const ViewFreshness& f : fresh) {
    const auto w = written.find(f.view);
    const auto before = previous_.rows_written.find(f.view);
    double rate = 0;
    if (w != written.end() && before != previous_.rows_written.end())
      rate = PerSecond(w->second, before->second, seconds);
    out.push_back({.view = Intern(f.view),
                   .rows = f.rows,
                   .past_sla = f.past_sla,
                   .memory_bytes = f.memory_bytes,
                   .age_p50_ms = f.age_ms.p50,
                   .age_p99_ms = f.age_ms.p99,
                   .write_rate = static_cast<float>(rate)});
  }
  previous_.rows_written = std::move(written);
  return out;
}

Series::KafkaPoint Series::SampleKafka(double seconds) {
  IngestStatus s = sources_.kafka->status();
  const IngestStatus& b = previous_.kafka;
  KafkaPoint k;
  k.running = s.running;
  if (previous_.t >= 0) {
    k.message_rate = static_cast<float>(PerSecond(s.messages, b.messages, seconds));
    k.event_rate = static_cast<float>(PerSecond(s.events, b.events, seconds));
    k.malformed_rate = static_cast<float>(PerSecond(MalformedTotal(s), MalformedTotal(b), seconds));
    k.dead_letter_rate = static_cast<float>(PerSecond(s.dead_lettered, b.dead_lettered, seconds));
    k.too_late_rate = static_cast<float>(PerSecond(s.too_late, b.too_late, seconds));
    const Histogram::Summary e2v =
        SummarizeGain(s.event_to_visible_counts, b.event_to_visible_counts);
    k.event_to_visible_p50_us = static_cast<float>(e2v.p50);
    k.event_to_visible_p99_us = static_cast<float>(e2v.p99);
  }
  for (const PartitionStatus& p : s.partitions) {
    k.partitions.push_back(
        {.partition = Intern(p.topic + "/" + std::to_string(p.partition)), .lag = p.lag});
  }
  previous_.kafka = std::move(s);
  return k;
}

Series::DriftPoint Series::SampleDrift(int64_t now_ms) {
  DriftPoint d;
  d.t = now_ms;
  rcu::ReadLock lock;
  const std::vector<ViewStatsSample> views = SnapshotViews(sources_.store);
  for (const MeasuredDrift& m : MeasureRecentDrift(sources_.store, views)) {
    const uint32_t view = Intern(m.view->view);
    for (const FieldDrift& f : m.fields) {
      d.fields.push_back({.view = view,
                          .field = Intern(f.field),
                          .psi = static_cast<float>(f.psi),
                          .ks = static_cast<float>(f.ks),
                          .mean_shift = static_cast<float>(f.mean_shift),
                          .drifting = f.drifting});
    }
  }
  return d;
}

// --- the documents ----------------------------------------------------------

namespace {

// One column of values, null where there is none.
void Column(JsonWriter& w, std::string_view key, const std::vector<std::optional<double>>& values) {
  w.Key(key).Open('[');
  for (const std::optional<double>& v : values) {
    if (v) {
      w.Number(*v);
    } else {
      w.Null();
    }
  }
  w.Close();
}

// The double whose shortest text is the float's (10.10101, not
// 10.1010103225708): the JSON then carries no digits the float never had.
double Widen(float f) {
  char text[32];
  const auto written = std::to_chars(text, text + sizeof text, f);
  double d = f;
  std::from_chars(text, written.ptr, d);
  return d;
}

// A column of a member of entries, one entry (or null) per point; absent
// entries are `absent`.
template <typename E, typename M>
void Column(JsonWriter& w, std::string_view key, const std::vector<const E*>& entries, M E::*member,
            std::optional<double> absent = std::nullopt) {
  std::vector<std::optional<double>> values;
  values.reserve(entries.size());
  for (const E* e : entries) {
    if (e == nullptr) {
      values.push_back(absent);
    } else if constexpr (std::is_same_v<M, float>) {
      values.emplace_back(Widen(e->*member));
    } else {
      values.emplace_back(static_cast<double>(e->*member));
    }
  }
  Column(w, key, values);
}

// The entries of the points by key: for each key any point has, its entry
// in each point (null where the point has none). One pass over the points.
template <typename Key, typename P, typename Entries, typename KeyOf>
auto ByKey(const std::vector<const P*>& points, Entries entries, KeyOf key_of) {
  using E = std::remove_cvref_t<decltype(*std::begin(entries(*points.front())))>;
  std::map<Key, std::vector<const E*>> out;
  for (size_t i = 0; i < points.size(); ++i) {
    for (const E& e : entries(*points[i])) {
      const std::optional<Key> key = key_of(e);
      if (!key) continue;
      std::vector<const E*>& column = out[*key];
      column.resize(points.size(), nullptr);
      column[i] = &e;
    }
  }
  return out;
}

// The document's head: {"part": …, "interval_ms": …, "span_ms": …, "t": [...]
template <typename P>
void Head(JsonWriter& w, std::string_view part, int64_t interval_ms, int64_t span_ms,
          const std::vector<const P*>& points) {
  w.Open('{').Key("part").String(part).Key("interval_ms").Int(interval_ms);
  w.Key("span_ms").Int(span_ms).Key("t").Open('[');
  for (const P* p : points)
    w.Int(p->t);
  w.Close();
}

}  // namespace

Result<std::string> Series::Json(std::string_view part, std::string_view view,
                                 int64_t since_ms) const {
  if (std::find(std::begin(kParts), std::end(kParts), part) == std::end(kParts)) {
    return Status::InvalidArgument("unknown series part '" + std::string(part) +
                                   "' (expected requests, memory, views, kafka or drift)");
  }
  std::string out;
  JsonWriter w(&out);
  std::lock_guard<std::mutex> lock(mu_);
  if (part == "drift") {
    std::vector<const DriftPoint*> points;
    for (const DriftPoint& d : drift_) {
      if (d.t > since_ms) points.push_back(&d);
    }
    Head(w, part, options_.drift_interval_ms, options_.span_ms, points);
    DriftJson(w, points, view);
  } else {
    std::vector<const Point*> points;
    for (const Point& p : points_) {
      if (p.t > since_ms) points.push_back(&p);
    }
    Head(w, part, options_.interval_ms, options_.span_ms, points);
    if (part == "requests") {
      RequestsJson(w, points);
    } else if (part == "memory") {
      MemoryJson(w, points);
    } else if (part == "views") {
      ViewsJson(w, points, view);
    } else {
      KafkaJson(w, points);
    }
  }
  w.Close();
  out.push_back('\n');
  return out;
}

void Series::RequestsJson(JsonWriter& w, const std::vector<const Point*>& points) const {
  using Key = std::pair<uint8_t, uint32_t>;
  const auto kinds = ByKey<Key>(
      points, [](const Point& p) -> const auto& { return p.requests; },
      [](const RequestPoint& r) {
        return std::optional<Key>({r.front_end, r.kind});
      });
  w.Key("requests").Open('[');
  for (const auto& [key, entries] : kinds) {
    w.Open('{').Key("front_end").String(FrontEndName(static_cast<FrontEnd>(key.first)));
    w.Key("kind").String(names_[key.second]);
    Column(w, "rate", entries, &RequestPoint::rate, 0.0);
    Column(w, "error_rate", entries, &RequestPoint::error_rate, 0.0);
    Column(w, "p50_us", entries, &RequestPoint::p50_us);
    Column(w, "p99_us", entries, &RequestPoint::p99_us);
    Column(w, "p999_us", entries, &RequestPoint::p999_us);
    w.Close();
  }
  w.Close();
}

void Series::MemoryJson(JsonWriter& w, const std::vector<const Point*>& points) const {
  Column(w, "rows", points, &Point::rows);
  w.Key("memory").Open('{');
  for (size_t i = 0; i < kMemoryParts; ++i) {
    std::vector<std::optional<double>> bytes;
    for (const Point* p : points)
      bytes.emplace_back(static_cast<double>(p->memory[i]));
    Column(w, MemoryPartName(static_cast<MemoryPart>(i)), bytes);
  }
  w.Close();
}

void Series::ViewsJson(JsonWriter& w, const std::vector<const Point*>& points,
                       std::string_view view) const {
  const auto views = ByKey<uint32_t>(
      points, [](const Point& p) -> const auto& { return p.views; },
      [&](const ViewPoint& v) {
        return ViewMatches(view, names_[v.view]) ? std::optional<uint32_t>(v.view) : std::nullopt;
      });
  w.Key("views").Open('[');
  for (const auto& [id, entries] : views) {
    w.Open('{').Key("view").String(names_[id]);
    Column(w, "rows", entries, &ViewPoint::rows);
    Column(w, "memory_bytes", entries, &ViewPoint::memory_bytes);
    Column(w, "past_sla", entries, &ViewPoint::past_sla);
    Column(w, "age_p50_ms", entries, &ViewPoint::age_p50_ms);
    Column(w, "age_p99_ms", entries, &ViewPoint::age_p99_ms);
    Column(w, "write_rate", entries, &ViewPoint::write_rate);
    w.Close();
  }
  w.Close();
}

void Series::KafkaJson(JsonWriter& w, const std::vector<const Point*>& points) const {
  w.Key("ingesting").Bool(sources_.kafka != nullptr);
  std::vector<const KafkaPoint*> kafka;
  for (const Point* p : points)
    kafka.push_back(&p->kafka);
  Column(w, "message_rate", kafka, &KafkaPoint::message_rate);
  Column(w, "event_rate", kafka, &KafkaPoint::event_rate);
  Column(w, "malformed_rate", kafka, &KafkaPoint::malformed_rate);
  Column(w, "dead_letter_rate", kafka, &KafkaPoint::dead_letter_rate);
  Column(w, "too_late_rate", kafka, &KafkaPoint::too_late_rate);
  Column(w, "event_to_visible_p50_us", kafka, &KafkaPoint::event_to_visible_p50_us);
  Column(w, "event_to_visible_p99_us", kafka, &KafkaPoint::event_to_visible_p99_us);
  const auto partitions = ByKey<uint32_t>(
      points, [](const Point& p) -> const auto& { return p.kafka.partitions; },
      [](const PartitionPoint& q) {
        return q.lag >= 0 ? std::optional<uint32_t>(q.partition) : std::nullopt;
      });
  w.Key("partitions").Open('[');
  for (const auto& [id, entries] : partitions) {
    w.Open('{').Key("partition").String(names_[id]);
    Column(w, "lag", entries, &PartitionPoint::lag);
    w.Close();
  }
  w.Close();
}

void Series::DriftJson(JsonWriter& w, const std::vector<const DriftPoint*>& points,
                       std::string_view view) const {
  using Key = std::pair<uint32_t, uint32_t>;
  const auto fields = ByKey<Key>(
      points, [](const DriftPoint& d) -> const auto& { return d.fields; },
      [&](const FieldDriftPoint& f) {
        return ViewMatches(view, names_[f.view]) ? std::optional<Key>({f.view, f.field})
                                                 : std::nullopt;
      });
  w.Key("fields").Open('[');
  for (const auto& [key, entries] : fields) {
    w.Open('{').Key("view").String(names_[key.first]).Key("field").String(names_[key.second]);
    Column(w, "psi", entries, &FieldDriftPoint::psi);
    Column(w, "ks", entries, &FieldDriftPoint::ks);
    Column(w, "mean_shift", entries, &FieldDriftPoint::mean_shift);
    Column(w, "drifting", entries, &FieldDriftPoint::drifting);
    w.Close();
  }
  w.Close();
}

}  // namespace quiver::dashboard
