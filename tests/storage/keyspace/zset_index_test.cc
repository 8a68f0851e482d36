// ZIndex against a std::set model under random operations (ranks, ranges
// both ways, lower bounds, scores), and the packed sorted set format:
// whole scores kept small, others exact, malformed or unordered values
// refused.
#include "storage/keyspace/zset_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/keyspace/packed_zset.h"

namespace quiver {
namespace {

using Model = std::set<std::pair<double, std::string>>;

std::vector<std::pair<double, std::string>> Range(const ZIndex& z, size_t from, size_t to,
                                                  bool reverse) {
  std::vector<std::pair<double, std::string>> out;
  z.ForRange(from, to, reverse, [&](const ZItem& item) {
    out.emplace_back(item.score, std::string(item.member));
    return true;
  });
  return out;
}

void ExpectSame(const ZIndex& z, const Model& model) {
  ASSERT_EQ(z.size(), model.size());
  std::vector<std::pair<double, std::string>> all(model.begin(), model.end());
  EXPECT_EQ(Range(z, 0, z.size(), false), all);
  std::vector<std::pair<double, std::string>> reversed(all.rbegin(), all.rend());
  EXPECT_EQ(Range(z, 0, z.size(), true), reversed);
  for (size_t rank = 0; rank < all.size(); rank += 7) {
    const ZItem item = z.At(rank);
    EXPECT_EQ(std::string(item.member), all[rank].second);
    EXPECT_EQ(item.score, all[rank].first);
    EXPECT_EQ(z.Score(item.member), item.score);
  }
}

TEST(ZIndexTest, MatchesAnOrderedModelUnderRandomChanges) {
  std::mt19937_64 rng(27);
  ZIndex z;
  Model model;
  std::map<std::string, double> scores;
  for (int step = 0; step < 20000; ++step) {
    const std::string member = "m" + std::to_string(rng() % 2000);
    const double score = static_cast<double>(rng() % 50) - 25;  // many ties
    if (rng() % 3 != 0) {
      auto it = scores.find(member);
      const bool fresh = it == scores.end();
      if (!fresh) model.erase({it->second, member});
      model.insert({score, member});
      scores[member] = score;
      EXPECT_EQ(z.Set(member, score), fresh);
    } else {
      auto it = scores.find(member);
      EXPECT_EQ(z.Erase(member), it != scores.end());
      if (it != scores.end()) {
        model.erase({it->second, member});
        scores.erase(it);
      }
    }
    if (step % 2000 == 0) ExpectSame(z, model);
  }
  ExpectSame(z, model);
  // Lower bounds and partial ranges, both ways.
  for (double bound : {-30.0, -3.0, 0.0, 10.0, 30.0}) {
    const size_t n = z.CountBefore([&](const ZItem& item) { return item.score < bound; });
    size_t expected = 0;
    for (const auto& [s, m] : model)
      expected += s < bound ? 1 : 0;
    EXPECT_EQ(n, expected) << bound;
  }
  using Items = std::vector<std::pair<double, std::string>>;
  const Items all(model.begin(), model.end());
  const Items ascending(all.begin() + 10, all.begin() + 20);
  const Items descending(all.rend() - 20, all.rend() - 10);
  EXPECT_EQ(Range(z, 10, 20, false), ascending);
  EXPECT_EQ(Range(z, 10, 20, true), descending);
  size_t visited = 0;
  z.ForRange(0, z.size(), false, [&](const ZItem&) { return ++visited < 3; });
  EXPECT_EQ(visited, 3u);
}

TEST(ZIndexTest, SortedInsertionsStayShallow) {
  // Members added in order would make an unbalanced tree a list; the
  // random priorities keep every operation logarithmic (this would take
  // minutes, and overflow the stack in Split, otherwise).
  ZIndex z;
  for (int i = 0; i < 300000; ++i)
    z.Set("member:" + std::to_string(i), i);
  EXPECT_EQ(z.size(), 300000u);
  EXPECT_EQ(z.At(123456).score, 123456);
  for (int i = 0; i < 300000; i += 2)
    EXPECT_TRUE(z.Erase("member:" + std::to_string(i)));
  EXPECT_EQ(z.At(0).score, 1);
}

std::vector<uint8_t> Pack(const std::vector<ZItem>& items) {
  std::vector<uint8_t> out(PackedZSetSize(items));
  PackZSet(items, out.data());
  return out;
}

TEST(PackedZSetTest, RoundTripsEveryKindOfScore) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<ZItem> items = {{"a", -inf},
                              {"b", -1e300},
                              {"c", -5},
                              {"d", 0},
                              {"e", 0.1},
                              {"f", 3},
                              {"g", 9007199254740993.0},
                              {"h", 1e300},
                              {"i", inf}};
  std::vector<ZItem> out;
  const std::vector<uint8_t> packed = Pack(items);
  ASSERT_TRUE(DecodeZSet(packed, &out));
  ASSERT_EQ(out.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(out[i].member, items[i].member);
    EXPECT_EQ(out[i].score, items[i].score);
  }
  // Small whole scores take one byte: member size, member, score.
  EXPECT_EQ(Pack({{"m1", 1}, {"m2", 2}}).size(), 2u + 2 * 4);
  // -0 packs as a whole number, and reads back as 0, as in a listpack.
  ASSERT_TRUE(DecodeZSet(Pack({{"z", -0.0}}), &out));
  EXPECT_FALSE(std::signbit(out[0].score));
}

TEST(PackedZSetTest, RefusesMalformedAndUnorderedValues) {
  std::vector<ZItem> out;
  const std::vector<uint8_t> good = Pack({{"a", 1}, {"b", 2}});
  for (size_t cut = 0; cut < good.size(); ++cut)
    EXPECT_FALSE(DecodeZSet(std::span(good).first(cut), &out)) << cut;
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_FALSE(DecodeZSet(longer, &out));
  EXPECT_FALSE(DecodeZSet(Pack({{"b", 1}, {"a", 1}}), &out));  // out of order
  std::vector<uint8_t> wrong_format = good;
  wrong_format[0] = 9;
  EXPECT_FALSE(DecodeZSet(wrong_format, &out));
  const double nan = std::nan("");
  std::vector<uint8_t> with_nan = Pack({{"a", 0.5}});
  std::memcpy(with_nan.data() + with_nan.size() - 8, &nan, 8);
  EXPECT_FALSE(DecodeZSet(with_nan, &out));
}

}  // namespace
}  // namespace quiver
