// Sawtooth windows against a brute-force reference computed from the raw
// events, and the definitions that declare them.
#include "storage/streaming/windows.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>

#include <gtest/gtest.h>

#include "storage/online/row.h"
#include "storage/registry/definitions.h"
#include "storage/registry/registry.h"
#include "util/byte_codec.h"
#include "util/json_path.h"
#include "util/rcu.h"

namespace quiver {
namespace {

// Durations in the YAML are milliseconds so that random times hit tile
// edges often.
constexpr const char* kDefs = R"(
sources:
  - {name: events, kafka: {topic: events}, event_time: "$.ts"}
entities:
  - {name: user, keys: [user_id]}
views:
  - name: activity
    entity: user
    source: events
    keys: {user_id: "$.user"}
    fields:
      - {name: c, type: int64, agg: count, window: 10ms, hop: 2ms}
      - {name: s, type: float64, agg: sum, of: "$.x", window: 10ms, hop: 3ms}
      - {name: m, type: float64, agg: mean, of: "$.x", window: 6ms, hop: 2ms}
      - {name: lo, type: float32, agg: min, of: "$.x", window: 7ms, hop: 7ms}
      - {name: hi, type: int32, agg: max, of: "$.x", window: 4ms, hop: 1ms}
      - {name: l, type: string, agg: last, of: "$.name", window: 5ms, hop: 5ms}
      - {name: total, type: int64, agg: sum, of: "$.x"}
      - {name: ever, type: int64, agg: count}
)";

struct Event {
  int64_t time;
  std::optional<double> x;  // absent: the event has no $.x
  std::string name;
};

class WindowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Definitions> defs = ParseDefinitions(kDefs);
    ASSERT_TRUE(defs.ok()) << defs.status().ToString();
    view_ = defs->views[0];
    FinalizeView(view_);
  }

  std::vector<Value> ValuesOf(const Event& e) const {
    std::vector<Value> v(view_.fields.size());
    for (size_t i = 0; i < view_.fields.size(); ++i) {
      const FieldMapping& m = view_.fields[i].mapping;
      if (m.of == "$.x" && e.x) v[i] = *e.x;  // the mapper hands float64 fields a double
      if (m.of == "$.name") v[i] = e.name;
    }
    // int fields fed by $.x: the mapper converts to the field's type.
    v[4] = e.x ? Value(static_cast<int32_t>(*e.x)) : Value();
    v[6] = e.x ? Value(static_cast<int64_t>(*e.x)) : Value();
    return v;
  }

  // The value of every field at t from the raw events, as the sawtooth
  // definition says.
  std::vector<std::optional<double>> Truth(const std::vector<Event>& events, int64_t t,
                                           std::string* last) const {
    std::vector<std::optional<double>> out(view_.fields.size());
    last->clear();
    int64_t last_time = INT64_MIN;
    for (size_t i = 0; i < view_.fields.size(); ++i) {
      const FieldMapping& m = view_.fields[i].mapping;
      double sum = 0, count = 0;
      std::optional<double> lo, hi;
      for (const Event& e : events) {
        if (e.time > t) continue;
        if (m.window_ms > 0 && FloorDiv(e.time, m.hop_ms) < FloorDiv(t - m.window_ms, m.hop_ms)) {
          continue;
        }
        if (m.agg == FieldAgg::kLast) {
          if (e.time >= last_time) {
            last_time = e.time;
            *last = e.name;
            out[i] = 1;
          }
          continue;
        }
        if (m.agg != FieldAgg::kCount && !e.x) continue;
        const double x = e.x.value_or(0);
        sum += x;
        count += 1;
        lo = lo ? std::min(*lo, x) : x;
        hi = hi ? std::max(*hi, x) : x;
      }
      switch (m.agg) {
        case FieldAgg::kCount:
          out[i] = count;
          break;
        case FieldAgg::kSum:
          out[i] = sum;
          break;
        case FieldAgg::kMean:
          if (count > 0) out[i] = sum / count;
          break;
        case FieldAgg::kMin:
          if (lo) out[i] = static_cast<float>(*lo);
          break;
        case FieldAgg::kMax:
          out[i] = hi;
          break;
        default:
          break;
      }
    }
    return out;
  }

  // A row's fields as numbers (absent: nullopt); the string field as *text.
  std::vector<std::optional<double>> Decode(const std::string& row, std::string* text) const {
    RowReader r(view_.layout, {reinterpret_cast<const uint8_t*>(row.data()), row.size()});
    std::vector<std::optional<double>> out(view_.fields.size());
    text->clear();
    for (size_t i = 0; i < view_.fields.size(); ++i) {
      if (!r.present(i)) continue;
      switch (view_.fields[i].type.type) {
        case FieldType::kInt64:
          out[i] = static_cast<double>(r.Fixed<int64_t>(i));
          break;
        case FieldType::kInt32:
          out[i] = r.Fixed<int32_t>(i);
          break;
        case FieldType::kFloat32:
          out[i] = r.Fixed<float>(i);
          break;
        case FieldType::kFloat64:
          out[i] = r.Fixed<double>(i);
          break;
        default:
          *text = std::string(r.Var(i));
          out[i] = 1;
      }
    }
    return out;
  }

  // The history's answer at t: the newest version with time <= t, the
  // later-emitted one on ties.
  static const ComputedVersion* AsOf(const std::vector<ComputedVersion>& history, int64_t t) {
    const ComputedVersion* best = nullptr;
    for (const ComputedVersion& v : history) {
      if (v.event_time <= t && (best == nullptr || v.event_time >= best->event_time)) best = &v;
    }
    return best;
  }

  std::vector<Event> RandomEvents(std::mt19937& rng, int n, int late_percent) const {
    std::vector<Event> events;
    int64_t t = -40;
    for (int i = 0; i < n; ++i) {
      t += std::uniform_int_distribution<int>(0, 3)(rng);
      Event e{t, std::nullopt, "n" + std::to_string(i)};
      if (std::uniform_int_distribution<int>(0, 99)(rng) < late_percent) {
        e.time = t - std::uniform_int_distribution<int>(1, 12)(rng);
      }
      if (std::uniform_int_distribution<int>(0, 4)(rng) != 0) {
        e.x = std::uniform_int_distribution<int>(-50, 100)(rng);
      }
      events.push_back(e);
    }
    return events;
  }

  // Runs the events in order; with `sweep`, advances the clock at random
  // points between them as live ingestion does.
  std::vector<ComputedVersion> Run(const std::vector<Event>& events, int64_t end,
                                   std::mt19937* sweep) const {
    WindowedView w(view_);
    EntityState s = w.NewState();
    std::vector<ComputedVersion> history;
    for (const Event& e : events) {
      w.Apply(s, e.time, ValuesOf(e), &history);
      if (sweep != nullptr && std::uniform_int_distribution<int>(0, 2)(*sweep) == 0) {
        w.Advance(s, s.clock + std::uniform_int_distribution<int>(0, 15)(*sweep), &history);
      }
    }
    w.Advance(s, end, &history);
    return history;
  }

  ViewSchema view_;
};

TEST_F(WindowsTest, AsOfEveryTimeEqualsTheRawEvents) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    const std::vector<Event> events = RandomEvents(rng, 120, 0);
    const int64_t end = events.back().time + 30;
    const std::vector<ComputedVersion> history = Run(events, end, nullptr);
    for (int64_t t = events.front().time; t <= end; ++t) {
      const ComputedVersion* v = AsOf(history, t);
      ASSERT_NE(v, nullptr);
      std::string got_text, want_text;
      ASSERT_EQ(Decode(v->row, &got_text), Truth(events, t, &want_text))
          << "seed " << seed << " t " << t;
      ASSERT_EQ(got_text, want_text) << "seed " << seed << " t " << t;
    }
  }
}

TEST_F(WindowsTest, StateIsBoundedByTheHops) {
  WindowedView w(view_);
  EntityState s = w.NewState();
  std::vector<ComputedVersion> out;
  for (int64_t t = 0; t < 10'000; ++t)
    w.Apply(s, t, ValuesOf({t, 1.0, "x"}), &out);
  // count: 10ms / 2ms hops + the partial ones.
  EXPECT_LE(w.TileCount(s, 0), 7u);
  EXPECT_LE(w.TileCount(s, 4), 6u);
  EXPECT_EQ(w.TileCount(s, 6), 1u);  // no window: one running tile
}

TEST_F(WindowsTest, LateEventsNeverAppearBeforeTheyAreKnownAndCountFromThen) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    const std::vector<Event> events = RandomEvents(rng, 120, 25);
    WindowedView w(view_);
    EntityState s = w.NewState();
    std::vector<Event> seen;
    for (const Event& e : events) {
      std::vector<ComputedVersion> out;
      const int64_t clock_before = s.clock;
      w.Apply(s, e.time, ValuesOf(e), &out);
      seen.push_back(e);
      for (const ComputedVersion& v : out)
        ASSERT_GE(v.event_time,
                  std::min(e.time, clock_before == INT64_MIN ? e.time : clock_before));
      // From the entity's newest time on, the value is the truth over every
      // event seen so far, late ones included.
      const int64_t probe = s.clock + std::uniform_int_distribution<int>(0, 4)(rng);
      std::string got_text, want_text;
      std::vector<ComputedVersion> later;
      EntityState copy = s;
      w.Advance(copy, probe, &later);
      const ComputedVersion* v = AsOf(later, probe);
      const std::string row = v != nullptr ? v->row : w.Row(s, probe);
      ASSERT_EQ(Decode(row, &got_text), Truth(seen, probe, &want_text))
          << "seed " << seed << " event at " << e.time << " probe " << probe;
      ASSERT_EQ(got_text, want_text);
    }
  }
}

TEST_F(WindowsTest, LiveSweepsAndABackfillWriteTheSameHistory) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    const std::vector<Event> events = RandomEvents(rng, 150, 20);
    int64_t end = INT64_MIN;
    for (const Event& e : events)
      end = std::max(end, e.time + 25);
    std::mt19937 sweep(seed * 7);
    const std::vector<ComputedVersion> live = Run(events, end, &sweep);
    const std::vector<ComputedVersion> backfill = Run(events, end, nullptr);
    for (int64_t t = events.front().time - 15; t <= end; ++t) {
      const ComputedVersion* a = AsOf(live, t);
      const ComputedVersion* b = AsOf(backfill, t);
      ASSERT_EQ(a == nullptr, b == nullptr) << "seed " << seed << " t " << t;
      if (a != nullptr) {
        ASSERT_EQ(a->row, b->row) << "seed " << seed << " t " << t;
      }
    }
  }
}

TEST_F(WindowsTest, NextChangeIsWhenTheOldestTileLeaves) {
  WindowedView w(view_);
  EntityState s = w.NewState();
  std::vector<ComputedVersion> out;
  w.Apply(s, 5, ValuesOf({5, 3.0, "a"}), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].event_time, 5);
  // hi: window 4, hop 1: tile 5 leaves at 6 + 4 = 10.
  EXPECT_EQ(w.NextChange(s), 10);
  out.clear();
  w.Advance(s, 100, &out);
  std::vector<int64_t> times;
  for (const auto& v : out)
    times.push_back(v.event_time);
  // hi leaves at 10, l (5/5: tile 1) at 15, c (10/2: tile 2) at 16, m (6/2)
  // at 12, lo (7/7: tile 0) at 14, s (10/3: tile 1) at 16.
  EXPECT_EQ(times, (std::vector<int64_t>{10, 12, 14, 15, 16}));
  EXPECT_EQ(w.NextChange(s), INT64_MAX);
  std::string text;
  const auto last = Decode(out.back().row, &text);
  EXPECT_EQ(last[0], 0.0);  // count over an empty window is 0
  EXPECT_EQ(last[1], 0.0);  // and so is a sum
  EXPECT_FALSE(last[2]);    // a mean of nothing is absent
  EXPECT_FALSE(last[5]);    // the last value left the window
  EXPECT_EQ(last[6], 3.0);  // no window: forever
}

TEST_F(WindowsTest, StateSurvivesEncoding) {
  WindowedView w(view_);
  EntityState s = w.NewState();
  std::vector<ComputedVersion> out;
  std::mt19937 rng(3);
  for (const Event& e : RandomEvents(rng, 50, 10))
    w.Apply(s, e.time, ValuesOf(e), &out);
  const std::string bytes = w.Encode(s);
  Result<EntityState> back = w.Decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(w.Encode(*back), bytes);
  EXPECT_EQ(w.Row(*back, s.clock + 3), w.Row(s, s.clock + 3));
  for (size_t cut = 0; cut < bytes.size(); cut += 7)
    EXPECT_FALSE(w.Decode(bytes.substr(0, cut)).ok());
}

// A state in format 1 (unpacked: every field's tiles as index, value and
// count, then a last-value flag), as quiverd wrote it before 2026-12.
struct UnpackedField {
  std::vector<Tile> tiles;
  std::optional<std::pair<int64_t, std::string>> last;  // a string field's
};
std::string EncodeFormat1(int64_t clock, int64_t through,
                          const std::vector<UnpackedField>& fields) {
  std::string out;
  Put<uint8_t>(&out, 1);
  Put<int64_t>(&out, clock);
  Put<int64_t>(&out, through);
  for (const UnpackedField& f : fields) {
    Put<uint32_t>(&out, static_cast<uint32_t>(f.tiles.size()));
    for (const Tile& t : f.tiles) {
      Put<int64_t>(&out, t.index);
      Put<double>(&out, t.value);
      Put<uint64_t>(&out, t.count);
    }
    Put<uint8_t>(&out, f.last ? 1 : 0);
    if (!f.last) continue;
    Put<int64_t>(&out, f.last->first);
    Put<uint32_t>(&out, static_cast<uint32_t>(f.last->second.size()));
    out.append(f.last->second);
  }
  return out;
}

TEST_F(WindowsTest, AStateInTheUnpackedFormatIsReadAsTheSameState) {
  WindowedView w(view_);
  EntityState s = w.NewState();
  std::vector<ComputedVersion> out;
  w.Apply(s, 0, ValuesOf({0, 1.0, "a"}), &out);
  w.Apply(s, 3, ValuesOf({3, 2.0, "b"}), &out);
  // The same two events as format 1 held them, field by field (c, s, m,
  // lo, hi, l, total, ever; see kDefs).
  const std::string old =
      EncodeFormat1(3, 3,
                    {{{{0, 0, 1}, {1, 0, 1}}, {}},
                     {{{0, 1, 1}, {1, 2, 1}}, {}},
                     {{{0, 1, 1}, {1, 2, 1}}, {}},
                     {{{0, 1, 2}}, {}},
                     {{{0, 1, 1}, {3, 2, 1}}, {}},
                     {{{0, 0, 2}}, std::make_pair(int64_t{3}, std::string("b"))},
                     {{{0, 3, 2}}, {}},
                     {{{0, 0, 2}}, {}}});
  Result<EntityState> back = w.Decode(old);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(w.Encode(*back), w.Encode(s));  // written back in format 2
  for (int64_t t : {3, 7, 12, 20})
    EXPECT_EQ(w.Row(*back, t), w.Row(s, t)) << t;
  EXPECT_EQ(w.NextChange(*back), w.NextChange(s));
  for (size_t cut = 1; cut < old.size(); cut += 5)
    EXPECT_FALSE(w.Decode(old.substr(0, cut)).ok()) << cut;
  // A last value on a field that is not `last` is not a state of this view.
  std::string wrong = EncodeFormat1(3, 3, {{{}, std::make_pair(int64_t{3}, std::string("b"))}});
  EXPECT_FALSE(w.Decode(wrong).ok());
}

TEST_F(WindowsTest, AFieldKeepsOnlyWhatItsAggregationNeeds) {
  Result<Definitions> defs = ParseDefinitions(R"(
sources:
  - {name: events, kafka: {topic: events}, event_time: "$.ts"}
entities:
  - {name: user_item, keys: [user_id, item_id]}
views:
  - name: progress
    entity: user_item
    source: events
    keys: {user_id: "$.user", item_id: "$.item"}
    fields:
      - {name: p, type: float32, agg: last, of: "$.p"}
)");
  ASSERT_TRUE(defs.ok()) << defs.status().ToString();
  ViewSchema view = defs->views[0];
  FinalizeView(view);
  WindowedView w(view);
  EntityState s = w.NewState();
  std::vector<ComputedVersion> out;
  const std::vector<Value> values{Value(0.5f)};
  ASSERT_TRUE(w.Apply(s, 10, values, &out));
  // A flag, the time and the float: within std::string's own bytes.
  EXPECT_EQ(s.fields.size(), 13u);
  EXPECT_EQ(StateHeapBytes(s), 0u);
  // The view of kDefs after one event: each field's tile count and one
  // tile of 16 bytes (count, last) or 24 (with a value); l's last value.
  WindowedView wide(view_);
  EntityState t = wide.NewState();
  wide.Apply(t, 0, ValuesOf({0, 1.0, "a"}), &out);
  EXPECT_EQ(t.fields.size(),
            (2 + 16) + 4 * (2 + 24) + (2 + 16 + 1 + 8 + 4 + 1) + (2 + 24) + (2 + 16));
}

TEST(JsonPathTest, PathsBecomePointers) {
  EXPECT_EQ(*JsonPathToPointer("$"), "");
  EXPECT_EQ(*JsonPathToPointer("$.userId"), "/userId");
  EXPECT_EQ(*JsonPathToPointer("$.a.b[2]"), "/a/b/2");
  EXPECT_EQ(*JsonPathToPointer("$['a b']['c/d']"), "/a b/c~1d");
  for (const char* bad : {"", "userId", "$.", "$..a", "$[x]", "$['a'", "$.a b"})
    EXPECT_FALSE(JsonPathToPointer(bad).ok()) << bad;
}

class SourceDefinitionsTest : public ::testing::Test {
 protected:
  Status Apply(const std::string& yaml) {
    Result<Definitions> defs = ParseDefinitions(yaml);
    if (!defs.ok()) return defs.status();
    return registry_.Apply(*defs).status();
  }
  rcu::ThreadRegistration registration_;
  Registry registry_;
};

constexpr const char* kIssueExample = R"(
sources:
  - {name: watch_events, kafka: {topic: watch-events}, format: json, event_time: "$.ts"}
entities:
  - {name: user, keys: [user_id]}
  - {name: user_item, keys: [user_id, item_id]}
views:
  - name: user_activity
    version: 1
    entity: user
    source: watch_events
    keys: {user_id: "$.userId"}
    fields:
      - {name: watch_count_7d, type: int64, agg: count, window: 7d, hop: 1h}
      - {name: watch_minutes_30d, type: float32, agg: sum, of: "$.watchDurationMin", window: 30d, hop: 1d}
      - {name: last_item, type: string, agg: last, of: "$.itemId"}
  - name: user_item_progress
    version: 2
    entity: user_item
    source: watch_events
    keys: {item_id: "$.itemId", user_id: "$.userId"}
    fields:
      - {name: watch_progress, type: float32, agg: last, of: "$.progress"}
)";

TEST_F(SourceDefinitionsTest, TheIssueExampleApplies) {
  ASSERT_TRUE(Apply(kIssueExample).ok()) << Apply(kIssueExample).ToString();
  rcu::ReadLock lock;
  const Catalog& c = registry_.current();
  ASSERT_NE(c.FindSource("watch_events"), nullptr);
  EXPECT_EQ(c.FindSource("watch_events")->topic, "watch-events");
  const ViewSchema* v = *c.Resolve({"user_item_progress", 0});
  // Key paths follow the entity's key order, not the document's.
  ASSERT_EQ(v->key_paths.size(), 2u);
  EXPECT_EQ(v->key_paths[0].first, "user_id");
  EXPECT_EQ(v->key_paths[1].second, "$.itemId");
  const ViewSchema* a = *c.Resolve({"user_activity", 0});
  EXPECT_EQ(a->fields[0].mapping.window_ms, 7 * 86'400'000LL);
  EXPECT_EQ(a->fields[0].mapping.hop_ms, 3'600'000LL);
  EXPECT_EQ(a->fields[2].mapping.agg, FieldAgg::kLast);
}

TEST_F(SourceDefinitionsTest, DefaultHopsFollowChronon) {
  const std::string yaml = std::string(kIssueExample) + R"(
  - name: hops
    entity: user
    source: watch_events
    keys: {user_id: "$.userId"}
    fields:
      - {name: a, type: int64, agg: count, window: 30d}
      - {name: b, type: int64, agg: count, window: 1d}
      - {name: c, type: int64, agg: count, window: 1h}
      - {name: d, type: int64, agg: count, window: 1m}
      - {name: e, type: float64, of: "$.x"}
)";
  ASSERT_TRUE(Apply(yaml).ok()) << Apply(yaml).ToString();
  rcu::ReadLock lock;
  const ViewSchema* v = *registry_.current().Resolve({"hops", 0});
  EXPECT_EQ(v->fields[0].mapping.hop_ms, 86'400'000LL);
  EXPECT_EQ(v->fields[1].mapping.hop_ms, 3'600'000LL);
  EXPECT_EQ(v->fields[2].mapping.hop_ms, 300'000LL);
  EXPECT_EQ(v->fields[3].mapping.hop_ms, 60'000LL);
  EXPECT_EQ(v->fields[4].mapping.agg, FieldAgg::kLast);  // `of` alone maps the last value
}

TEST_F(SourceDefinitionsTest, MistakesAreNamed) {
  const std::string head = R"(
sources: [{name: ev, kafka: {topic: t}, event_time: "$.ts"}]
entities: [{name: user, keys: [user_id]}, {name: pair, keys: [a, b]}]
views:
)";
  const std::pair<const char*, const char*> cases[] = {
      {"- {name: v, entity: user, fields: [{name: f, type: int64, agg: count}]}",
       "need the view to have a 'source'"},
      {"- {name: v, entity: user, source: ev, keys: {user_id: $.u}, fields: [{name: f, type: "
       "int64}]}",
       "needs 'agg' or 'of'"},
      {"- {name: v, entity: user, source: ev, keys: {user_id: $.u}, fields: [{name: f, type: "
       "int64, agg: count, of: $.x}]}",
       "count takes no 'of'"},
      {"- {name: v, entity: user, source: ev, keys: {user_id: $.u}, fields: [{name: f, type: "
       "string, agg: sum, of: $.x}]}",
       "sum needs a numeric type"},
      {"- {name: v, entity: user, source: ev, keys: {user_id: $.u}, fields: [{name: f, type: "
       "int64, agg: count, window: 1h, hop: 2h}]}",
       "'hop' is longer than 'window'"},
      {"- {name: v, entity: user, source: ev, keys: {user_id: $.u}, fields: [{name: f, type: "
       "int64, agg: count, window: 7d, hop: 1s}]}",
       "more than 10,000 hops"},
      {"- {name: v, entity: user, source: ev, keys: {user_id: $.u}, fields: [{name: f, type: "
       "int64, agg: count, hop: 1h}]}",
       "'hop' needs a 'window'"},
      {"- {name: v, entity: user, source: ev, keys: {user_id: $.u}, fields: [{name: f, type: "
       "int64, agg: median, of: $.x}]}",
       "unknown agg 'median'"},
      {"- {name: v, entity: user, source: nope, keys: {user_id: $.u}, fields: [{name: f, type: "
       "int64, agg: count}]}",
       "unknown source 'nope'"},
      {"- {name: v, entity: pair, source: ev, keys: {a: $.a}, fields: [{name: f, type: int64, "
       "agg: count}]}",
       "no path for join key 'b'"},
      {"- {name: v, entity: user, source: ev, keys: {user_id: $.u, x: $.x}, fields: [{name: f, "
       "type: int64, agg: count}]}",
       "has no such join key"},
      {"- {name: v, entity: user, source: ev, keys: {user_id: u}, fields: [{name: f, type: "
       "int64, agg: count}]}",
       "bad JSON path 'u'"},
  };
  for (const auto& [view, expected] : cases) {
    const Status s = Apply(head + "  " + view + "\n");
    EXPECT_FALSE(s.ok()) << view;
    EXPECT_NE(s.message().find(expected), std::string::npos) << s.message();
  }
  rcu::ReadLock lock;
  EXPECT_TRUE(registry_.current().views().empty());  // nothing applied
}

TEST_F(SourceDefinitionsTest, ChangingHowAFieldIsComputedNeedsANewVersion) {
  ASSERT_TRUE(Apply(kIssueExample).ok());
  std::string changed = kIssueExample;
  changed.replace(changed.find("window: 7d, hop: 1h"), 19, "window: 7d, hop: 2h");
  const Status s = Apply(changed);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  std::string moved = kIssueExample;
  moved.replace(moved.find("topic: watch-events"), 19, "topic: watch-events-2");
  EXPECT_TRUE(Apply(moved).ok());  // a source may move to another topic
}

}  // namespace
}  // namespace quiver
