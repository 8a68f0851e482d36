// Drift against baselines (storage/stats/baseline.h): a synthetic shift (the
// mean +30%, a new category) is flagged and an unshifted stream is not,
// for captured and expected baselines; too few values are not judged; the
// encoding round-trips and refuses corrupt bytes.
#include "storage/stats/baseline.h"

#include <random>

#include <gtest/gtest.h>

#include "storage/online/row.h"

namespace quiver {
namespace {

ViewSchema View() {
  ViewSchema v;
  v.name = "v";
  for (auto [name, type] : {std::pair{"x", FieldType::kFloat64},
                            {"genre", FieldType::kString},
                            {"blob", FieldType::kBytes}}) {
    Field f;
    f.name = name;
    f.type = {type, 0};
    f.default_value = ZeroValue(f.type);
    v.fields.push_back(std::move(f));
  }
  v.fields[0].expected = {.mean = 100, .stddev = 10, .min = std::nullopt, .max = std::nullopt};
  FinalizeView(v);
  return v;
}

// A window of n values of x ~ normal(mean, 10) and genres drawn from
// `genres`.
WindowSummary Window(const ViewSchema& view, int n, double mean,
                     const std::vector<std::string>& genres, uint64_t seed) {
  FeatureStats stats;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(mean, 10);
  {
    FeatureStats::Writer w = stats.Begin(view, 0);
    for (int i = 0; i < n; ++i) {
      w.Row();
      const double x = normal(rng);
      w.Fixed(0, reinterpret_cast<const uint8_t*>(&x));
      w.Var(1, genres[rng() % genres.size()]);
    }
  }
  return stats.Take(view, 0)->since_start;
}

const std::vector<std::string> kGenres = {"drama", "drama", "comedy", "action", "thriller"};

TEST(DriftTest, AnUnshiftedStreamIsNotFlagged) {
  const ViewSchema view = View();
  const ViewBaseline base =
      CaptureBaseline(view, Window(view, 20000, 100, kGenres, 1), "since_start", 5);
  ASSERT_EQ(base.fields.size(), 2u);  // bytes have no baseline
  const WindowSummary now = Window(view, 20000, 100, kGenres, 2);
  const FieldDrift x = MeasureDrift(view.fields[0], *base.Find("x"), now.fields[0]);
  EXPECT_TRUE(x.judged);
  EXPECT_FALSE(x.drifting) << "psi " << x.psi << " ks " << x.ks << " shift " << x.mean_shift;
  EXPECT_LT(x.psi, 0.02);
  EXPECT_LT(x.ks, 0.04);  // within KLL's rank error of twice 1.65%
  EXPECT_LT(x.mean_shift, 0.05);
  EXPECT_NEAR(x.stddev_ratio, 1, 0.05);
  const FieldDrift g = MeasureDrift(view.fields[1], *base.Find("genre"), now.fields[1]);
  EXPECT_FALSE(g.drifting) << g.psi;
  EXPECT_LT(g.psi, 0.01);
  EXPECT_TRUE(g.new_categories.empty());
  EXPECT_TRUE(std::isnan(g.ks));
}

TEST(DriftTest, AMeanThirtyPercentHigherIsFlagged) {
  const ViewSchema view = View();
  const ViewBaseline base =
      CaptureBaseline(view, Window(view, 20000, 100, kGenres, 1), "since_start", 5);
  const WindowSummary now = Window(view, 5000, 130, kGenres, 3);
  const FieldDrift x = MeasureDrift(view.fields[0], *base.Find("x"), now.fields[0]);
  EXPECT_TRUE(x.drifting);
  EXPECT_EQ(x.exceeded, (std::vector<std::string>{"psi", "ks", "mean_shift"}));
  EXPECT_NEAR(x.mean_shift, 3.0, 0.1);  // 30 / the baseline's stddev of 10
  EXPECT_GT(x.ks, 0.8);
}

TEST(DriftTest, ANewCategoryIsFlaggedAndNamed) {
  const ViewSchema view = View();
  const ViewBaseline base =
      CaptureBaseline(view, Window(view, 20000, 100, kGenres, 1), "since_start", 5);
  std::vector<std::string> with_horror = kGenres;
  with_horror.push_back("horror");  // one value in six
  const WindowSummary now = Window(view, 5000, 100, with_horror, 4);
  const FieldDrift g = MeasureDrift(view.fields[1], *base.Find("genre"), now.fields[1]);
  EXPECT_TRUE(g.drifting) << g.psi;
  EXPECT_EQ(g.new_categories, std::vector<std::string>{"horror"});
  EXPECT_EQ(g.exceeded, std::vector<std::string>{"psi"});
}

TEST(DriftTest, TooFewValuesAreNotJudged) {
  const ViewSchema view = View();
  const ViewBaseline base =
      CaptureBaseline(view, Window(view, 20000, 100, kGenres, 1), "since_start", 5);
  const WindowSummary now = Window(view, 50, 200, kGenres, 5);  // far off, but only 50 values
  const FieldDrift x = MeasureDrift(view.fields[0], *base.Find("x"), now.fields[0]);
  EXPECT_EQ(x.count, 50u);
  EXPECT_FALSE(x.judged);
  EXPECT_FALSE(x.drifting);
  EXPECT_FALSE(x.exceeded.empty());  // measured all the same
}

TEST(DriftTest, ExpectedStatisticsAreANormalBaseline) {
  const ViewSchema view = View();
  const ViewBaseline base = ExpectedBaseline(view);
  ASSERT_EQ(base.fields.size(), 1u);  // only x has an expected mean and stddev
  EXPECT_EQ(base.source, ViewBaseline::Source::kExpected);
  const FieldBaseline& x = base.fields[0];
  EXPECT_NEAR(x.points[128], 100, 0.1);                                       // the median
  EXPECT_NEAR(x.points[FieldBaseline::kPoints - 1], 100 + 10 * 2.886, 0.01);  // z(255.5 / 256)
  const FieldDrift same =
      MeasureDrift(view.fields[0], x, Window(view, 20000, 100, kGenres, 6).fields[0]);
  EXPECT_FALSE(same.drifting) << same.psi << " " << same.ks;
  const FieldDrift shifted =
      MeasureDrift(view.fields[0], x, Window(view, 20000, 130, kGenres, 7).fields[0]);
  EXPECT_TRUE(shifted.drifting);
}

TEST(DriftTest, ThresholdsComeFromTheField) {
  ViewSchema view = View();
  const ViewBaseline base =
      CaptureBaseline(view, Window(view, 20000, 100, kGenres, 1), "since_start", 5);
  const WindowSummary now = Window(view, 5000, 101.5, kGenres, 8);  // +0.15 stddev
  EXPECT_FALSE(MeasureDrift(view.fields[0], *base.Find("x"), now.fields[0]).drifting);
  view.fields[0].drift.mean_shift = 0.1;
  const FieldDrift strict = MeasureDrift(view.fields[0], *base.Find("x"), now.fields[0]);
  EXPECT_TRUE(strict.drifting);
  EXPECT_EQ(strict.exceeded, std::vector<std::string>{"mean_shift"});
}

TEST(BaselineEncodingTest, RoundTripsAndRefusesCorruptBytes) {
  const ViewSchema view = View();
  const ViewBaseline base =
      CaptureBaseline(view, Window(view, 1000, 100, kGenres, 1), "recent", 42);
  const std::string bytes = EncodeBaseline(base);
  Result<ViewBaseline> back = DecodeBaseline(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->captured_ms, 42);
  EXPECT_EQ(back->window, "recent");
  ASSERT_EQ(back->fields.size(), 2u);
  EXPECT_EQ(back->fields[0].points, base.fields[0].points);
  EXPECT_EQ(back->fields[1].categories, base.fields[1].categories);
  EXPECT_EQ(back->fields[1].other, base.fields[1].other);
  for (size_t cut = 0; cut < bytes.size(); cut += 7)
    EXPECT_FALSE(DecodeBaseline(bytes.substr(0, cut)).ok()) << cut;
  EXPECT_FALSE(DecodeBaseline(bytes + "x").ok());
  std::string huge = bytes;
  huge[huge.size() / 2] = '\xff';  // somewhere in the points or a length
  (void)DecodeBaseline(huge);      // must not crash or allocate wildly
}

}  // namespace
}  // namespace quiver
