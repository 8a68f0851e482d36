#include "storage/features/feature_store.h"

#include <cstring>

#include <gtest/gtest.h>

#include "storage/online/row.h"
#include "support/test_columns.h"
#include "util/rcu.h"

namespace quiver {
namespace {

constexpr char kDefinitions[] = R"(
entities:
  - {name: user, keys: [user_id]}
  - {name: user_item, keys: [user_id, item_id]}
views:
  - name: all_types
    entity: user
    ttl: 10s
    fields:
      - {name: b, type: bool, default: true}
      - {name: i32, type: int32, default: 20}
      - {name: i64, type: int64}
      - {name: f32, type: float32}
      - {name: f64, type: float64}
      - {name: s, type: string, default: unknown}
      - {name: raw, type: bytes}
      - {name: vec, type: "float32[3]", default: [1, 2, 3]}
  - name: progress
    entity: user_item
    fields:
      - {name: p, type: float32}
)";

class FeatureStoreTest : public ::testing::Test {
 protected:
  FeatureStoreTest()
      : table_(OnlineTable::Options{}),
        store_(registry_, table_, nullptr, {.now_ms = [this] { return now_ms_; }}) {
    Result<ApplyReport> r = store_.Apply(kDefinitions);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  }

  Result<WriteResult> Write(std::string_view view, std::vector<std::string_view> keys,
                            std::vector<int64_t> times, const std::vector<TestColumn>& cols) {
    std::vector<ColumnInput> inputs;
    for (const auto& c : cols)
      inputs.push_back(c.input());
    return store_.Write(WriteRequest{view, keys, times, inputs}, nullptr);
  }

  // Reads one field of one entity as raw bytes ("" if the field was served
  // as its default), checking the row state.
  struct Cell {
    RowState state;
    bool present;
    std::string raw;
  };
  Cell ReadCell(std::string_view view, std::vector<std::string_view> key, std::string_view field) {
    rcu::ReadLock lock;
    ReadResult result;
    std::vector<std::string_view> fields{field};
    Status s = store_.Read(ReadRequest{view, fields, key}, &result);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return {RowState::kMissing, false, ""};
    const int fi = result.fields[0];
    const Field& f = result.view->fields[fi];
    if (result.states[0] != RowState::kFound) return {result.states[0], false, f.default_raw};
    RowReader row(result.view->layout, result.rows[0]);
    if (!row.present(fi)) return {result.states[0], false, f.default_raw};
    if (IsVariableWidth(f.type.type)) return {result.states[0], true, std::string(row.Var(fi))};
    return {result.states[0], true,
            std::string(reinterpret_cast<const char*>(row.FixedPtr(fi)), FixedWidth(f.type))};
  }

  template <typename T>
  static T As(const std::string& raw) {
    T v;
    std::memcpy(&v, raw.data(), sizeof v);
    return v;
  }

  rcu::ThreadRegistration registration_;
  int64_t now_ms_ = 1'000'000;
  Registry registry_;
  OnlineTable table_;
  FeatureStore store_;
};

TEST_F(FeatureStoreTest, EveryTypeRoundTrips) {
  auto w =
      Write("all_types", {"u1", "u2"}, {now_ms_},
            {Fixed<uint8_t>("b", FieldType::kBool, {0, 1}),
             Fixed<int32_t>("i32", FieldType::kInt32, {-5, 7}),
             Fixed<int64_t>("i64", FieldType::kInt64, {int64_t{1} << 40, -1}),
             Fixed<float>("f32", FieldType::kFloat32, {0.5f, -2.25f}),
             Fixed<double>("f64", FieldType::kFloat64, {1e300, 3.5}), Strings("s", {"drama", ""}),
             Strings("raw", {std::string("\0\xff", 2), "x"}, FieldType::kBytes),
             Fixed<float>("vec", FieldType::kFloat32Vector, {1, 2, 3, 4, 5, 6}, 3)});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->applied, 2u);
  EXPECT_EQ(As<uint8_t>(ReadCell("all_types", {"u1"}, "b").raw), 0);
  EXPECT_EQ(As<int32_t>(ReadCell("all_types", {"u1"}, "i32").raw), -5);
  EXPECT_EQ(As<int64_t>(ReadCell("all_types", {"u1"}, "i64").raw), int64_t{1} << 40);
  EXPECT_EQ(As<float>(ReadCell("all_types", {"u2"}, "f32").raw), -2.25f);
  EXPECT_EQ(As<double>(ReadCell("all_types", {"u1"}, "f64").raw), 1e300);
  EXPECT_EQ(ReadCell("all_types", {"u1"}, "s").raw, "drama");
  Cell empty = ReadCell("all_types", {"u2"}, "s");
  EXPECT_TRUE(empty.present) << "an empty string is a value, not a missing one";
  EXPECT_EQ(empty.raw, "");
  EXPECT_EQ(ReadCell("all_types", {"u1"}, "raw").raw, std::string("\0\xff", 2));
  EXPECT_EQ(As<float>(ReadCell("all_types", {"u2"}, "vec").raw.substr(8)), 6.0f);
}

TEST_F(FeatureStoreTest, UnsetFieldsServeDefaultsFlaggedMissing) {
  ASSERT_TRUE(Write("all_types", {"u1"}, {}, {Fixed<int64_t>("i64", FieldType::kInt64, {9})}).ok());
  Cell i32 = ReadCell("all_types", {"u1"}, "i32");
  EXPECT_EQ(i32.state, RowState::kFound);
  EXPECT_FALSE(i32.present);
  EXPECT_EQ(As<int32_t>(i32.raw), 20);
  EXPECT_EQ(ReadCell("all_types", {"u1"}, "s").raw, "unknown");
  EXPECT_EQ(As<float>(ReadCell("all_types", {"u1"}, "vec").raw.substr(4)), 2.0f);
  Cell missing = ReadCell("all_types", {"nobody"}, "i64");
  EXPECT_EQ(missing.state, RowState::kMissing);
  EXPECT_EQ(As<int64_t>(missing.raw), 0);
}

TEST_F(FeatureStoreTest, WritesMergeIntoTheCurrentRow) {
  ASSERT_TRUE(Write("all_types", {"u1"}, {now_ms_ - 200},
                    {Fixed<int64_t>("i64", FieldType::kInt64, {1}), Strings("s", {"comedy"})})
                  .ok());
  ASSERT_TRUE(
      Write("all_types", {"u1"}, {now_ms_ - 100}, {Fixed<int64_t>("i64", FieldType::kInt64, {2})})
          .ok());
  EXPECT_EQ(As<int64_t>(ReadCell("all_types", {"u1"}, "i64").raw), 2);
  EXPECT_EQ(ReadCell("all_types", {"u1"}, "s").raw, "comedy") << "unset field keeps its value";
}

TEST_F(FeatureStoreTest, NullFlagMeansRowDoesNotSetField) {
  TestColumn col = Fixed<int64_t>("i64", FieldType::kInt64, {5, 6});
  ASSERT_TRUE(Write("all_types", {"u1", "u2"}, {}, {col}).ok());
  col = Fixed<int64_t>("i64", FieldType::kInt64, {50, 60});
  col.nulls = {1, 0};
  ASSERT_TRUE(Write("all_types", {"u1", "u2"}, {}, {col}).ok());
  EXPECT_EQ(As<int64_t>(ReadCell("all_types", {"u1"}, "i64").raw), 5);
  EXPECT_EQ(As<int64_t>(ReadCell("all_types", {"u2"}, "i64").raw), 60);
}

TEST_F(FeatureStoreTest, LateEventIsCountedStaleAndNotServed) {
  ASSERT_TRUE(
      Write("all_types", {"u1"}, {now_ms_ - 100}, {Fixed<int64_t>("i64", FieldType::kInt64, {2})})
          .ok());
  auto late =
      Write("all_types", {"u1"}, {now_ms_ - 200}, {Fixed<int64_t>("i64", FieldType::kInt64, {1})});
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->stale, 1u);
  EXPECT_EQ(late->applied, 0u);
  EXPECT_EQ(As<int64_t>(ReadCell("all_types", {"u1"}, "i64").raw), 2);
}

// Records what RowEvents hears.
struct HeardRows : RowEvents {
  std::string wanted = "progress";
  std::vector<std::string> heard;
  bool Wants(const ViewSchema& view) const override { return view.name == wanted; }
  void Written(const ViewSchema& view, std::string_view key, size_t key_values, int64_t t,
               std::span<const uint8_t> row, bool online) override {
    const RowReader r(view.layout, row);
    float p = 0;
    if (r.present(0)) std::memcpy(&p, r.FixedPtr(0), sizeof p);
    heard.push_back(std::string(key) + "/" + std::to_string(key_values) + " @" + std::to_string(t) +
                    (online ? " online " : " late ") + std::to_string(p));
  }
  void Deleted(const ViewSchema&, std::string_view key, size_t key_values) override {
    heard.push_back(std::string(key) + "/" + std::to_string(key_values) + " deleted");
  }
};

TEST_F(FeatureStoreTest, RowEventsHearEveryVersionOfTheViewsTheyWant) {
  HeardRows events;
  store_.SetRowEvents(&events);
  const auto write = [&](int64_t t, float p) {
    return Write("progress", {"u1", "i9"}, {t}, {Fixed<float>("p", FieldType::kFloat32, {p})});
  };
  ASSERT_TRUE(write(now_ms_, 0.5f).ok());
  ASSERT_TRUE(write(now_ms_ - 10, 0.25f).ok());  // late: no history, so not merged
  ASSERT_TRUE(
      Write("all_types", {"u1"}, {now_ms_}, {Fixed<int64_t>("i64", FieldType::kInt64, {7})}).ok());
  const std::vector<std::string_view> parts{"u1", "i9", "u2", "i1"};
  ASSERT_TRUE(store_.Delete("progress", parts, nullptr).ok());  // u2,i1 never existed
  store_.SetRowEvents(nullptr);
  ASSERT_TRUE(write(now_ms_, 1.0f).ok());
  const std::string key = std::string("\x02u1\x02i9", 6);
  EXPECT_EQ(events.heard,
            (std::vector<std::string>{key + "/2 @1000000 online 0.500000",
                                      key + "/2 @999990 late 0.250000", key + "/2 deleted"}));
}

TEST_F(FeatureStoreTest, TtlIsMeasuredFromEventTime) {
  // ttl 10s: a value is served while now - event_time < 10s.
  ASSERT_TRUE(
      Write("all_types", {"u1"}, {now_ms_}, {Fixed<int64_t>("i64", FieldType::kInt64, {7})}).ok());
  now_ms_ += 9'999;
  EXPECT_EQ(ReadCell("all_types", {"u1"}, "i64").state, RowState::kFound);
  now_ms_ += 1;
  Cell expired = ReadCell("all_types", {"u1"}, "i64");
  EXPECT_EQ(expired.state, RowState::kExpired);
  EXPECT_FALSE(expired.present);
  EXPECT_EQ(table_.SweepExpired(now_ms_), 1u);
  EXPECT_EQ(ReadCell("all_types", {"u1"}, "i64").state, RowState::kMissing);
}

TEST_F(FeatureStoreTest, MultiKeyEntitiesDoNotCollide) {
  ASSERT_TRUE(Write("progress", {"ab", "c", "a", "bc"}, {},
                    {Fixed<float>("p", FieldType::kFloat32, {0.25f, 0.75f})})
                  .ok());
  EXPECT_EQ(As<float>(ReadCell("progress", {"ab", "c"}, "p").raw), 0.25f);
  EXPECT_EQ(As<float>(ReadCell("progress", {"a", "bc"}, "p").raw), 0.75f);
}

TEST_F(FeatureStoreTest, VersionsKeepSeparateRows) {
  ASSERT_TRUE(store_
                  .Apply("views: [{name: all_types, version: 2, entity: user, fields: [{name: i64, "
                         "type: int64}]}]")
                  .ok());
  ASSERT_TRUE(
      Write("all_types@v1", {"u1"}, {}, {Fixed<int64_t>("i64", FieldType::kInt64, {1})}).ok());
  ASSERT_TRUE(Write("all_types", {"u1"}, {}, {Fixed<int64_t>("i64", FieldType::kInt64, {2})}).ok());
  EXPECT_EQ(As<int64_t>(ReadCell("all_types@v1", {"u1"}, "i64").raw), 1);
  EXPECT_EQ(As<int64_t>(ReadCell("all_types@v2", {"u1"}, "i64").raw), 2);
}

TEST_F(FeatureStoreTest, BadInputIsRefusedAndChangesNothing) {
  ASSERT_TRUE(Write("all_types", {"u1"}, {}, {Fixed<int64_t>("i64", FieldType::kInt64, {1})}).ok());
  const int64_t memory = table_.memory_bytes();
  auto expect_refused = [&](Result<WriteResult> r, StatusCode code, std::string_view text) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().message();
  };
  // A good column next to a bad one: neither may be applied.
  TestColumn good = Fixed<int64_t>("i64", FieldType::kInt64, {99, 99});
  expect_refused(Write("all_types", {"u1", "u2"}, {},
                       {good, Fixed<int64_t>("i32", FieldType::kInt64, {1, 2})}),
                 StatusCode::kInvalidArgument, "is int32, got int64");
  expect_refused(Write("all_types", {"u1", "u2"}, {},
                       {good, Fixed<int32_t>("nope", FieldType::kInt32, {1, 2})}),
                 StatusCode::kNotFound, "no field 'nope'");
  expect_refused(Write("all_types", {"u1", "u2"}, {},
                       {good, Fixed<float>("vec", FieldType::kFloat32Vector, {1, 2, 3}, 3)}),
                 StatusCode::kInvalidArgument, "expected 2 values");
  expect_refused(Write("all_types", {"u1", "u2"}, {},
                       {good, Fixed<float>("vec", FieldType::kFloat32Vector, {1, 2, 3, 4}, 2)}),
                 StatusCode::kInvalidArgument, "is float32[3], got float32[2]");
  expect_refused(Write("all_types", {"u1", ""}, {}, {good}), StatusCode::kInvalidArgument,
                 "empty entity key");
  expect_refused(Write("all_types", {"u1", "u2"}, {1, 2, 3}, {good}), StatusCode::kInvalidArgument,
                 "event times");
  expect_refused(
      Write("progress", {"u1", "i1", "u2"}, {}, {Fixed<float>("p", FieldType::kFloat32, {1})}),
      StatusCode::kInvalidArgument, "2 join keys");
  expect_refused(Write("nope", {"u1"}, {}, {good}), StatusCode::kNotFound, "unknown view");
  TestColumn bad_offsets = Strings("s", {"a", "b"});
  bad_offsets.offsets = {0, 5, 1};
  expect_refused(Write("all_types", {"u1", "u2"}, {}, {good, bad_offsets}),
                 StatusCode::kInvalidArgument, "offsets");
  expect_refused(Write("all_types", {"u1", "u2"}, {}, {good, good}), StatusCode::kInvalidArgument,
                 "given twice");

  EXPECT_EQ(As<int64_t>(ReadCell("all_types", {"u1"}, "i64").raw), 1);
  EXPECT_EQ(ReadCell("all_types", {"u2"}, "i64").state, RowState::kMissing);
  EXPECT_EQ(table_.memory_bytes(), memory);
}

TEST_F(FeatureStoreTest, ReadOfUnknownFieldFails) {
  rcu::ReadLock lock;
  ReadResult result;
  std::vector<std::string_view> fields{"nope"}, keys{"u1"};
  EXPECT_EQ(store_.Read(ReadRequest{"all_types", fields, keys}, &result).code(),
            StatusCode::kNotFound);
}

TEST_F(FeatureStoreTest, BatchOverMemoryLimitIsRefusedWhole) {
  OnlineTable small(OnlineTable::Options{.shards = 2, .max_memory_bytes = 2000});
  FeatureStore store(registry_, small, nullptr, {});
  std::vector<std::string> names;
  for (int i = 0; i < 100; ++i)
    names.push_back("u" + std::to_string(i));
  std::vector<std::string_view> keys(names.begin(), names.end());
  TestColumn col = Fixed<int64_t>("i64", FieldType::kInt64, std::vector<int64_t>(100, 1));
  std::vector<ColumnInput> inputs{col.input()};
  Result<WriteResult> r = store.Write(WriteRequest{"all_types", keys, {}, inputs}, nullptr);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(small.size(), 0) << "nothing of a refused batch is applied";
}

}  // namespace
}  // namespace quiver
