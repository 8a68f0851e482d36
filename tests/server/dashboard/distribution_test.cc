// One feature's distribution as the dashboard draws it: histograms of each
// window from its KLL sketch, the baseline's on the same bins, one bin per
// value for small integers, shares of the top categories.
#include "server/dashboard/distribution.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <numeric>

#include "tests/server/dashboard/items_store.h"

namespace quiver::dashboard {
namespace {

std::vector<double> Doubles(simdjson::dom::element array) {
  std::vector<double> out;
  for (simdjson::dom::element v : array.get_array())
    out.push_back(v.is_double() ? v.get_double().value() : static_cast<double>(v.get_int64()));
  return out;
}

class DistributionTest : public ::testing::Test {
 protected:
  simdjson::dom::element Document(std::string_view field, int bins = kDefaultBins) {
    Result<std::string> json = DistributionDocument(items_.store(), "items", field, bins);
    EXPECT_TRUE(json.ok()) << json.status().message();
    text_ = json.ok() ? *json : "{}";
    simdjson::dom::element doc;
    EXPECT_FALSE(parser_.parse(text_).get(doc)) << text_;
    return doc;
  }

  ItemsStore items_;
  simdjson::dom::parser parser_;
  std::string text_;
};

TEST_F(DistributionTest, NumbersGetOneSetOfBinsForEveryWindowAndTheBaseline) {
  ASSERT_TRUE(items_.Write(0, 900, 10, {"drama"}).ok());
  auto doc = Document("price", 20);
  EXPECT_EQ(doc["kind"].get_string().value(), "numeric");
  const std::vector<double> edges = Doubles(doc["edges"]);
  ASSERT_EQ(edges.size(), 21u);
  EXPECT_TRUE(std::is_sorted(edges.begin(), edges.end()));
  for (const char* window : {"since_start", "recent"}) {
    const std::vector<double> shares = Doubles(doc["windows"][window]["shares"]);
    ASSERT_EQ(shares.size(), 20u);
    EXPECT_NEAR(std::accumulate(shares.begin(), shares.end(), 0.0), 1.0, 1e-9) << window;
    EXPECT_EQ(doc["windows"][window]["count"].get_uint64().value(), 900u);
  }
  // The expected statistics (mean 10, stddev 2) are the baseline, on the same bins.
  auto baseline = doc["baseline"];
  EXPECT_EQ(baseline["source"].get_string().value(), "expected");
  const std::vector<double> base = Doubles(baseline["shares"]);
  ASSERT_EQ(base.size(), 20u);
  EXPECT_NEAR(std::accumulate(base.begin(), base.end(), 0.0), 1.0, 1e-9);
  // Normal around 10: the middle bins hold more than the end ones, for
  // the values and the baseline alike.
  const std::vector<double> recent = Doubles(doc["windows"]["recent"]["shares"]);
  for (const std::vector<double>* shares : {&recent, &base}) {
    EXPECT_GT((*shares)[9] + (*shares)[10], 3 * ((*shares)[0] + (*shares)[19]));
  }
  EXPECT_NEAR(doc["windows"]["recent"]["mean"].get_double().value(), 10, 0.3);
}

TEST_F(DistributionTest, SmallIntegersGetOneBinPerValue) {
  ASSERT_TRUE(items_.Write(0, 500, 10, {"drama"}).ok());
  auto doc = Document("stars");
  EXPECT_EQ(Doubles(doc["edges"]), (std::vector<double>{-0.5, 0.5, 1.5, 2.5, 3.5, 4.5}));
  for (double share : Doubles(doc["windows"]["recent"]["shares"]))
    EXPECT_NEAR(share, 0.2, 0.02);         // within the KLL sketch's rank error
  EXPECT_TRUE(doc["baseline"].is_null());  // no expected statistics, none captured
}

TEST_F(DistributionTest, CategoriesAreSharesOfTheValues) {
  ASSERT_TRUE(items_.Write(0, 400, 10, {"drama", "drama", "drama", "comedy"}).ok());
  auto doc = Document("genre");
  EXPECT_EQ(doc["kind"].get_string().value(), "categorical");
  auto categories = doc["categories"].get_array();
  ASSERT_EQ(categories.size(), 2u);
  EXPECT_EQ(categories.at(0)["value"].get_string().value(), "drama");
  EXPECT_NEAR(categories.at(0)["recent"].get_double().value(), 0.75, 1e-9);
  EXPECT_EQ(categories.at(1)["value"].get_string().value(), "comedy");
  EXPECT_NEAR(categories.at(1)["since_start"].get_double().value(), 0.25, 1e-9);
}

TEST_F(DistributionTest, BytesHaveCountsButNoHistogram) {
  ASSERT_TRUE(items_.Write(0, 10, 10, {"drama"}).ok());
  auto doc = Document("photo");
  EXPECT_EQ(doc["kind"].get_string().value(), "none");
  EXPECT_EQ(doc["windows"]["recent"]["count"].get_uint64().value(), 0u);
  EXPECT_TRUE(doc["edges"].error() == simdjson::NO_SUCH_FIELD);
}

TEST_F(DistributionTest, NothingWrittenYetIsEmptyNotAnError) {
  auto doc = Document("price");
  EXPECT_EQ(doc["windows"]["recent"]["count"].get_uint64().value(), 0u);
  const std::vector<double> shares = Doubles(doc["windows"]["recent"]["shares"]);
  EXPECT_EQ(std::accumulate(shares.begin(), shares.end(), 0.0), 0.0);
}

TEST_F(DistributionTest, BadRequestsAreRefused) {
  EXPECT_EQ(DistributionDocument(items_.store(), "items", "nope").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(DistributionDocument(items_.store(), "nope", "price").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(DistributionDocument(items_.store(), "items", "price", 0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DistributionDocument(items_.store(), "items", "price", kMaxBins + 1).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace quiver::dashboard
