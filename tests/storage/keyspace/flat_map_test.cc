// FlatMap against std::unordered_map: random sets, overwrites with longer
// and shorter values, erases (whose backward shifts must keep every other
// key findable) and growth; empty keys and values; iteration.
#include "storage/keyspace/flat_map.h"

#include <map>
#include <random>
#include <string>
#include <unordered_map>

#include <gtest/gtest.h>

namespace quiver {
namespace {

TEST(FlatMapTest, MatchesAStandardMapThroughRandomChanges) {
  FlatMap map;
  std::unordered_map<std::string, std::string> model;
  std::mt19937 rng(11);
  for (int step = 0; step < 200000; ++step) {
    // Few distinct keys early (many collisions on probe paths), more later.
    const std::string key = "k" + std::to_string(rng() % (step < 50000 ? 300 : 20000));
    size_t old = 0;
    if (rng() % 3 == 0) {
      const bool had = model.erase(key) > 0;
      ASSERT_EQ(map.Erase(key, &old), had) << key;
    } else {
      const std::string value(rng() % 40, static_cast<char>('a' + rng() % 26));
      auto it = model.find(key);
      const bool added = map.Set(key, value, &old);
      ASSERT_EQ(added, it == model.end()) << key;
      if (!added) {
        ASSERT_EQ(old, it->second.size());
      }
      model[key] = value;
    }
    ASSERT_EQ(map.size(), model.size());
    if (step % 1000 == 0) {
      for (const auto& [k, v] : model)
        ASSERT_EQ(map.Find(k), std::optional<std::string_view>(v)) << k;
    }
  }
  std::map<std::string, std::string> seen;
  map.ForEach([&](std::string_view k, std::string_view v) { seen.emplace(k, v); });
  const std::map<std::string, std::string> expected(model.begin(), model.end());
  EXPECT_EQ(seen, expected);
  EXPECT_FALSE(map.Find("absent").has_value());
}

TEST(FlatMapTest, EmptyKeysAndValues) {
  FlatMap map;
  size_t old = 0;
  EXPECT_FALSE(map.Find("").has_value());
  EXPECT_TRUE(map.Set("", "", &old));
  EXPECT_EQ(map.Find(""), std::optional<std::string_view>(""));
  EXPECT_FALSE(map.Set("", "now longer", &old));
  EXPECT_EQ(old, 0u);
  EXPECT_EQ(map.Find(""), std::optional<std::string_view>("now longer"));
  EXPECT_TRUE(map.Erase("", &old));
  EXPECT_EQ(old, 10u);
  EXPECT_TRUE(map.empty());
  EXPECT_FALSE(map.Erase("", &old));
}

}  // namespace
}  // namespace quiver
